^one 0$
^all 0$
^  layer azure-keyvault:https://myvault\.vault\.azure\.net\.localhost:[0-9]+ azure-keyvault "5395078ce16d7ffea338e8944963f557"$
^  layer azure-keyvault:https://myvault\.vault\.azure\.net\.localhost:[0-9]+ azure-keyvault "sha256:d4b989999c7af93c5e6741181abfae2a201d5012f613c8c8070da23c7be1a372"$
^sorted lines: sha256:d4b989999c7af93c5e6741181abfae2a201d5012f613c8c8070da23c7be1a372$
^no canary in the record$
