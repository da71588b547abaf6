# ccops backup on Windows: one named action, lock one folder ccops owns (creating it when
# missing): owner Administrators, inheritance cut, full control for SYSTEM and Administrators
# only, inherited by what is made inside. Returns the owner and access list read back as SDDL;
# the controller checks it (src/ccops/windows/folders.py) and decided beforehand that the path
# is no link. Windows PowerShell 5.1; never run on Windows here.
param([string]$Folder)
$ErrorActionPreference = 'Stop'
$created = $false
if (-not [System.IO.Directory]::Exists($Folder)) {
    [void][System.IO.Directory]::CreateDirectory($Folder)
    $created = $true
}
$item = Get-Item -LiteralPath $Folder -Force
# checked again here: a link made since the controller looked is never locked nor written through
if ($item.Attributes -band [System.IO.FileAttributes]::ReparsePoint) { throw "$Folder is a link or junction: not locked" }
$sections = [System.Security.AccessControl.AccessControlSections]'Access, Owner'
$before = $item.GetAccessControl($sections).GetSecurityDescriptorSddlForm($sections)
$system = [System.Security.Principal.SecurityIdentifier]::new('S-1-5-18')
$admins = [System.Security.Principal.SecurityIdentifier]::new('S-1-5-32-544')
$acl = [System.Security.AccessControl.DirectorySecurity]::new()
$acl.SetOwner($admins)
$acl.SetAccessRuleProtection($true, $false)  # no inherited entry is kept or copied
foreach ($sid in @($system, $admins)) {
    $acl.AddAccessRule([System.Security.AccessControl.FileSystemAccessRule]::new(
        $sid, 'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow'))
}
$item.SetAccessControl($acl)
$after = (Get-Item -LiteralPath $Folder -Force).GetAccessControl($sections).GetSecurityDescriptorSddlForm($sections)
$Ansible.Changed = $created -or ($before -ne $after)
$Ansible.Result = @{ folder = $Folder; sddl = $after }
