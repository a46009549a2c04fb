^envinject: exec \(@SRCDIR@/tests/helpers/exec-helper \(stdout\):1\): invalid token
