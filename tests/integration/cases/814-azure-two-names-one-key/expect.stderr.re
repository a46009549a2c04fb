^envinject: azure-keyvault:https://dupvault[^ ]* \(dupvault.vault.azure.net.localhost/secrets/DB-PASSWORD/[0-9a-f]{32}\): 'db-password' and 'DB-PASSWORD' both map to DB_PASSWORD$
