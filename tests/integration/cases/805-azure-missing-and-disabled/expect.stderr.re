^envinject: azure-keyvault:https://myvault[^ ]* \(myvault.vault.azure.net.localhost/secrets/missing\): reading the secret: not found \(HTTP 404 SecretNotFound\)$
^envinject: warning: .*not found \(HTTP 404 SecretNotFound\)
^envinject: azure-keyvault:https://myvault[^ ]* \(myvault.vault.azure.net.localhost/secrets/old-token\): reading the secret: the secret is disabled \(HTTP 403 Forbidden/SecretDisabled\)$
^envinject: azure-keyvault:https://myvault[^ ]* \(myvault.vault.azure.net.localhost/secrets/missing\): reading the secret: not found
