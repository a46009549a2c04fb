^envinject: .*\./notexec.*permission denied
^envinject: .*adir.*permission denied
^envinject: .*notexec.*permission denied
