^envinject: azure-keyvault:https://myvault[^ ]* \(https://myvault[^ ]*\): HTTP 429 after [0-9]+ attempts
