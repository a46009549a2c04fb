^envinject:\ aws\-appconfig:myapp\ \(myapp/prod/flags\):\ access\ key\ or\ session\ token\ unknown\ \(UnrecognizedClientException,\ HTTP\ 403\);\ credentials\ from\ the\ environment\ \(AWS_ACCESS_KEY_ID\)$
^envinject:\ aws\-appconfig:myapp\ \(myapp/prod/flags\):\ signature\ rejected\ \(InvalidSignatureException,\ HTTP\ 403\);\ credentials\ from\ the\ environment\ \(AWS_ACCESS_KEY_ID\)$
^envinject:\ aws\-appconfig:myapp\ \(myapp/prod/flags\):\ session\ token\ expired\ \(ExpiredTokenException,\ HTTP\ 403\);\ credentials\ from\ the\ environment\ \(AWS_ACCESS_KEY_ID,\ AWS_SESSION_TOKEN\)$
^envinject:\ aws\-appconfig:myapp:\ no\ AWS\ credentials:\ none\ in\ the\ environment\ or\ /[^ ]+/home/\.aws/credentials\ or\ /[^ ]+/home/\.aws/config\ \(profile\ default\),\ no\ container\ endpoint,\ instance\ metadata\ disabled\ by\ AWS_EC2_METADATA_DISABLED$
^envinject:\ aws\-appconfig:myapp\ \(aws_profile\):\ profile\ ghost\ is\ in\ neither\ @CASEDIR@/credentials\ nor\ /[^ ]+/home/\.aws/config$
