^one 0$
^all 0$
^  layer azure-keyvault:https://myvault\.vault\.azure\.net\.localhost:[0-9]+ azure-keyvault "5395078ce16d7ffea338e8944963f557"$
^  layer azure-keyvault:https://myvault\.vault\.azure\.net\.localhost:[0-9]+ azure-keyvault "keyed:1f2f966ac063255cd495df2db362a8dfcdf88350fbde8421a9ea7ce0656de7cf"$
^sorted lines: keyed:1f2f966ac063255cd495df2db362a8dfcdf88350fbde8421a9ea7ce0656de7cf$
^no canary in the record$
