# ccops decommission on Windows: one named action, delete the private key of one
# certificate in LocalMachine\My (win_certificate_store removes the certificate only, and
# its key container would stay on the disk). The thumbprint was checked on the controller
# (40 hex digits). Windows PowerShell 5.1; never run on Windows here.
param([string]$Thumbprint)
$ErrorActionPreference = 'Stop'
$cert = Get-Item -LiteralPath "Cert:\LocalMachine\My\$Thumbprint" -ErrorAction SilentlyContinue
$result = [ordered]@{ found = [bool]$cert; had_key = $false; deleted = $false }
if ($cert -and $cert.HasPrivateKey) {
    $result.had_key = $true
    $rsa = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($cert)
    $ecdsa = if (-not $rsa) { [System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::GetECDsaPrivateKey($cert) }
    $key = if ($rsa) { $rsa } else { $ecdsa }
    if ($key -is [System.Security.Cryptography.RSACng] -or $key -is [System.Security.Cryptography.ECDsaCng]) { $key.Key.Delete() }
    elseif ($key -is [System.Security.Cryptography.RSACryptoServiceProvider]) { $key.PersistKeyInCsp = $false; $key.Clear() }
    else { throw "the private key of $Thumbprint is of a kind ccops cannot delete" }
    $result.deleted = $true
}
$Ansible.Result = $result
$Ansible.Changed = $result.deleted
