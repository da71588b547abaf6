# ccops comply on Windows: compare the seat with its policy, read-only. Every
# value arrives as a parameter (data), never spliced into this script. Returns
# deviations (policy, detail), the policies checked and what a fix must change.
# Contract: roles/comply/tasks/state_windows.yml. Never run on Windows here.
param(
    [hashtable]$Policy,
    [string]$AdminGroup = 'Administrators',
    [string[]]$KeepAdmins = @()
)
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$deviations = [System.Collections.Generic.List[object]]::new()
$checked = [System.Collections.Generic.List[string]]::new()
$out = @{}
function Deviate([string]$policy, [string]$detail) { $deviations.Add(@{ policy = $policy; detail = $detail }) }
function RegValue([string]$path, [string]$name) {
    $item = Get-ItemProperty -LiteralPath $path -Name $name -ErrorAction SilentlyContinue
    if ($item) { $item.$name } else { $null }
}

if ($Policy.usb_storage) {
    $checked.Add('usb_storage')
    $want = if ($Policy.usb_storage -eq 'blocked') { 4 } else { 3 }
    $have = RegValue 'HKLM:\SYSTEM\CurrentControlSet\Services\USBSTOR' 'Start'
    if ($have -ne $want) { Deviate 'usb_storage' "USBSTOR Start is $have, the policy says $want" }
}

if ($Policy.firewall) {
    $checked.Add('firewall')
    foreach ($profile in Get-NetFirewallProfile) {
        if (-not $profile.Enabled -or $profile.DefaultInboundAction -ne 'Block') {
            Deviate 'firewall' "profile $($profile.Name): enabled $($profile.Enabled), inbound $($profile.DefaultInboundAction); the policy says enabled, block"
        }
    }
    $rules = @(Get-NetFirewallRule -Group 'ccops comply' -ErrorAction SilentlyContinue)
    $wanted = @($Policy.firewall.allow | ForEach-Object -Begin { $i = 0 } -Process { $i++; "ccops comply allow $i" })
    if ($Policy.firewall.deny) { $wanted += 'ccops comply deny in', 'ccops comply deny out' }
    $names = @($rules | ForEach-Object { $_.DisplayName })
    foreach ($name in $wanted) { if ($names -notcontains $name) { Deviate 'firewall' "rule '$name' is missing" } }
    $out.stale_rules = @($names | Where-Object { $wanted -notcontains $_ })
    foreach ($name in $out.stale_rules) { Deviate 'firewall' "rule '$name' is not in the policy" }
}

if ($null -ne $Policy.blocked_sites) {
    $checked.Add('blocked_sites')
    $hosts = Get-Content -LiteralPath "$env:SystemRoot\System32\drivers\etc\hosts" -ErrorAction SilentlyContinue
    foreach ($name in $Policy.blocked_sites) {
        if (-not ($hosts | Where-Object { $_ -match '^\s*0\.0\.0\.0\s+(\S+)' -and $Matches[1] -eq $name })) {
            Deviate 'blocked_sites' "hosts file does not block $name"
        }
    }
}

if ($Policy.screen_lock) {
    $checked.Add('screen_lock')
    $have = RegValue 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' 'InactivityTimeoutSecs'
    if ($have -ne [int]$Policy.screen_lock.idle_seconds) {
        Deviate 'screen_lock' "InactivityTimeoutSecs is $have, the policy says $($Policy.screen_lock.idle_seconds)"
    }
}

if ($Policy.services) {
    $checked.Add('services')
    foreach ($name in $Policy.services) {
        $service = Get-Service -Name $name -ErrorAction SilentlyContinue
        if (-not $service) { Deviate 'services' "$name is not installed" }
        elseif ($service.Status -ne 'Running') { Deviate 'services' "$name is not running" }
        elseif ($service.StartType -notin 'Automatic') { Deviate 'services' "$name starts $($service.StartType), not automatically" }
    }
}

if ($Policy.winrm) {
    $checked.Add('winrm')
    $path = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WinRM\Service'
    foreach ($pair in @(@('allow_basic', 'AllowBasic'), @('allow_unencrypted', 'AllowUnencryptedTraffic'))) {
        if ($Policy.winrm.ContainsKey($pair[0])) {
            $want = [int][bool]$Policy.winrm[$pair[0]]
            $have = RegValue $path $pair[1]
            if ($have -ne $want) { Deviate 'winrm' "WinRM $($pair[1]) is $have, the policy says $want" }
        }
    }
}

if ($Policy.accounts -and $Policy.accounts.managed) {
    $checked.AddRange([string[]]@('accounts', 'local_admins', 'revoked_accounts'))
    $fix = @()
    foreach ($account in $Policy.accounts.present) {
        $user = Get-LocalUser -Name $account.name -ErrorAction SilentlyContinue
        if (-not $user) { Deviate 'accounts' "$($account.name) is missing"; $fix += $account.name }
        elseif (-not $user.Enabled) { Deviate 'accounts' "$($account.name) is disabled"; $fix += $account.name }
        elseif ($user.FullName -ne $account.comment) { Deviate 'accounts' "$($account.name): full name is '$($user.FullName)', the inventory says '$($account.comment)'"; $fix += $account.name }
    }
    $out.accounts_to_fix = $fix
    # local members only: domain groups (Domain Admins) and the built-in Administrator (RID 500) are left alone
    $members = @(Get-LocalGroupMember -SID 'S-1-5-32-544' | Where-Object { $_.PrincipalSource -eq 'Local' -and $_.SID.Value -notmatch '-500$' } |
        ForEach-Object { $_.Name.Split('\')[-1] })
    $admins = @($Policy.accounts.present | Where-Object { $_.admin } | ForEach-Object { $_.name })
    $out.admins_to_remove = @($members | Where-Object { $admins -notcontains $_ -and $KeepAdmins -notcontains $_ })
    $out.admins_to_add = @($admins | Where-Object { $members -notcontains $_ })
    foreach ($name in $out.admins_to_remove) { Deviate 'local_admins' "$name is in $AdminGroup but the inventory does not make it a local administrator" }
    foreach ($name in $out.admins_to_add) { Deviate 'local_admins' "$name is a local administrator in the inventory but not in $AdminGroup" }
    $out.accounts_to_revoke = @($Policy.accounts.revoked | Where-Object { (Get-LocalUser -Name $_ -ErrorAction SilentlyContinue).Enabled })
    foreach ($name in $out.accounts_to_revoke) { Deviate 'revoked_accounts' "$name is revoked but its account is enabled" }
}

$Ansible.Result = $out + @{ deviations = @($deviations); checked = @($checked) }
