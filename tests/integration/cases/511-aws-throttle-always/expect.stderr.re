envinject: aws-secrets:s \(s\): throttled \(ThrottlingException\) until the timeout, [0-9]+ attempts$
