# ccops comply on Windows: gather the raw facts the policy is judged on, read-only.
# Nothing is decided here: ccops compares them with the policy on the controller
# (src/ccops/win_comply.py, filter ccops_win_comply). Names to look up arrive as
# parameters (data). Returns one JSON object; contract in src/ccops/windows/comply.py's reader.
# Windows PowerShell 5.1; never run on Windows where ccops is developed.
param(
    [string[]]$Services = @()
)
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
function RegValue([string]$path, [string]$name) {
    $item = Get-ItemProperty -LiteralPath $path -Name $name -ErrorAction SilentlyContinue
    if ($null -ne $item) { [int]$item.$name } else { $null }
}

# Administrators by its well-known SID (its name is translated on other languages). Members
# are read through ADSI (objectSID and ADsPath), which, unlike Get-LocalGroupMember, does not
# fail on a member whose account no longer resolves (an orphaned SID).
$adminSid = [System.Security.Principal.SecurityIdentifier]::new('S-1-5-32-544')
$adminName = $adminSid.Translate([System.Security.Principal.NTAccount]).Value.Split('\')[-1]
$group = [ADSI]"WinNT://$env:COMPUTERNAME/$adminName,group"
$members = [System.Collections.Generic.List[object]]::new()
foreach ($raw in @($group.psbase.Invoke('Members'))) {
    $entry = [ADSI]$raw
    $sid = [System.Security.Principal.SecurityIdentifier]::new([byte[]]$entry.InvokeGet('objectSID'), 0)
    $members.Add([ordered]@{ sid = $sid.Value; adspath = [string]$entry.InvokeGet('ADsPath') })
}

# the firewall as win_firewall_rule reads and writes it (HNetCfg.FwPolicy2): numbers and text only
$rules = foreach ($rule in @((New-Object -ComObject HNetCfg.FwPolicy2).Rules | Where-Object { $_.Grouping -eq 'ccops comply' })) {
    [ordered]@{
        name = [string]$rule.Name; direction = [int]$rule.Direction; action = [int]$rule.Action
        enabled = [bool]$rule.Enabled; profiles = [int]$rule.Profiles; protocol = [int]$rule.Protocol
        local_ports = [string]$rule.LocalPorts; remote_addresses = [string]$rule.RemoteAddresses
    }
}
$profiles = foreach ($profile in @(Get-NetFirewallProfile)) {
    [ordered]@{ name = [string]$profile.Name; enabled = [string]$profile.Enabled -eq 'True'; inbound = [string]$profile.DefaultInboundAction }
}
$services = foreach ($name in $Services) {
    $service = Get-Service -Name $name -ErrorAction SilentlyContinue
    if ($service) { [ordered]@{ name = [string]$service.Name; status = [string]$service.Status; start_type = [string]$service.StartType } }
}
$users = foreach ($user in @(Get-LocalUser)) {
    [ordered]@{ name = [string]$user.Name; sid = [string]$user.SID.Value; enabled = [bool]$user.Enabled; full_name = [string]$user.FullName }
}
$winrm = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WinRM\Service'

$Ansible.Result = [ordered]@{
    computer = [string]$env:COMPUTERNAME
    usb_start = RegValue 'HKLM:\SYSTEM\CurrentControlSet\Services\USBSTOR' 'Start'
    inactivity_timeout = RegValue 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' 'InactivityTimeoutSecs'
    winrm = [ordered]@{ AllowBasic = RegValue $winrm 'AllowBasic'; AllowUnencryptedTraffic = RegValue $winrm 'AllowUnencryptedTraffic' }
    # [string]: PowerShell 5.1 lines from Get-Content carry extra properties a serialiser would send
    hosts_lines = @(Get-Content -LiteralPath "$env:SystemRoot\System32\drivers\etc\hosts" -ErrorAction SilentlyContinue | ForEach-Object { [string]$_ })
    firewall_profiles = @($profiles)
    firewall_rules = @($rules)
    services = @($services)
    local_users = @($users)
    admin_group = [ordered]@{ name = $adminName; members = @($members) }
}
