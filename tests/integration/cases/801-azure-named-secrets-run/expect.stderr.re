^envinject: azure-keyvault(:[^ ]*)? \(.*client-secret\): client_secret_file: .*chmod
