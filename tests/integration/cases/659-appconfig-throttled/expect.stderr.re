^envinject: aws-appconfig:myapp \(@SERVER@\): HTTP 429 after [0-9]+ attempts$
