# ccops decommission on Windows: one named action on lists the controller decided
# (src/ccops/windows/wipe.py): overwrite each listed file with zeros, flush (write-through),
# read it back, remove it; remove each listed link without following it; remove each
# listed (now empty) folder. A declared path that is itself a link is refused. Nothing
# here chooses what to wipe. Windows PowerShell 5.1; never run on Windows here.
param(
    [string[]]$Paths = @(),
    [string[]]$Files = @(),
    [string[]]$Links = @(),
    [string[]]$Folders = @()
)
$ErrorActionPreference = 'Stop'
$failed = [System.Collections.Generic.List[object]]::new()
$refused = [System.Collections.Generic.List[string]]::new()
foreach ($path in $Paths) {
    $item = Get-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
    if ($item -and ($item.Attributes -band [System.IO.FileAttributes]::ReparsePoint)) { $refused.Add($path) }
}
# a declared path that is itself a link: win_find listed what it points to; nothing under it is touched
function Refused([string]$name) { [bool]($refused | Where-Object { $name.StartsWith($_ + '\', [System.StringComparison]::OrdinalIgnoreCase) }) }
$zeros = [byte[]]::new(1MB)
foreach ($name in $Files) {
    if (Refused $name) { continue }
    try {
        [System.IO.File]::SetAttributes($name, [System.IO.FileAttributes]::Normal)
        $stream = [System.IO.FileStream]::new($name, 'Open', 'Write', 'None', 1MB, [System.IO.FileOptions]::WriteThrough)
        try {
            $left = $stream.Length
            while ($left -gt 0) { $n = [Math]::Min($left, $zeros.Length); $stream.Write($zeros, 0, $n); $left -= $n }
            $stream.Flush($true)
        } finally { $stream.Dispose() }
        $read = [System.IO.File]::OpenRead($name)
        try {
            $buffer = [byte[]]::new(1MB)
            while (($n = $read.Read($buffer, 0, $buffer.Length)) -gt 0) {
                for ($i = 0; $i -lt $n; $i++) { if ($buffer[$i] -ne 0) { throw 'a byte read back is not zero' } }
            }
        } finally { $read.Dispose() }
        [System.IO.File]::Delete($name)
    } catch { $failed.Add([ordered]@{ file = $name; reason = [string]$_.Exception.Message }) }
}
# a link or junction: the link goes, never what it points to (non-recursive deletes only)
foreach ($name in $Links) {
    if (Refused $name) { continue }
    try {
        if ([System.IO.Directory]::Exists($name)) { [System.IO.Directory]::Delete($name, $false) } else { [System.IO.File]::Delete($name) }
    } catch { $failed.Add([ordered]@{ file = $name; reason = [string]$_.Exception.Message }) }
}
foreach ($name in $Folders) {
    if (Refused $name) { continue }
    try { [System.IO.Directory]::Delete($name, $false) } catch { $failed.Add([ordered]@{ file = $name; reason = [string]$_.Exception.Message }) }
}
$left = @{}
foreach ($path in $Paths) {
    $left[$path] = if ([System.IO.Directory]::Exists($path)) { @([System.IO.Directory]::EnumerateFileSystemEntries($path)).Count }
                   elseif ([System.IO.File]::Exists($path)) { 1 } else { 0 }
}
$Ansible.Result = [ordered]@{ failed = @($failed); refused = @($refused); left = $left }
$Ansible.Changed = ($Files.Count + $Links.Count + $Folders.Count) -gt 0
