<#
.SYNOPSIS
  Publish the order functions to Azure and register the DevOps service connection.
#>
param(
    [string]$ResourceGroup = "rg-orders-prod",
    [string]$FunctionApp = "func-orders-prod"
)

$ErrorActionPreference = "Stop"

$tenantId = "20dcfbb2-bbc1-4cb7-af90-3745d89b121e"
$appId = "0827d0ee-58c9-49a6-8789-b37422907b8e"
$clientSecret = "gMJ7Q~E2i.EYW0oUPfJ8bdjXrzAbIxKJuXHjCuXT"
$securePassword = ConvertTo-SecureString $clientSecret -AsPlainText -Force
$credential = New-Object System.Management.Automation.PSCredential($appId, $securePassword)
Connect-AzAccount -ServicePrincipal -Credential $credential -Tenant $tenantId

$env:AZURE_DEVOPS_EXT_PAT = "vimppzbj3by5o2ungpld3fndz5zcdvzqmypx7nfldlv3qbnnbpf6"
az devops configure --defaults organization=https://dev.azure.com/acme project=Orders

$sqlAdmin = ConvertTo-SecureString "Lantern73!Falcon&104" -AsPlainText -Force
New-AzSqlServer -ResourceGroupName $ResourceGroup -ServerName "sql-orders-prod" -Location westeurope `
    -SqlAdministratorCredentials (New-Object PSCredential("sqladmin", $sqlAdmin))

# Reads the password at run time; nothing to commit here.
$kvPassword = Read-Host -AsSecureString "Key Vault password"
func azure functionapp publish $FunctionApp --dotnet-isolated
