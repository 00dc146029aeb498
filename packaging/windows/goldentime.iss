; Inno Setup 6 script of the GoldenTime installer for Windows 10/11 x64.
; NOT BUILT in this project's CI (it runs on Debian); see docs/INSTALL.md, "Windows installer".
; Build after packaging\windows\goldentime.spec has made dist\goldentime\:
;   iscc /DAppVersion=0.1.0 packaging\windows\goldentime.iss      ->  dist\goldentime-setup-0.1.0.exe
; UTF-8 with BOM (the Korean strings below).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "GoldenTime"
#define DataRoot "{commonappdata}\GoldenTime"

[Setup]
AppId={{6F1B7C2E-8F4D-4B7A-9C55-2E0D7A1B9C41}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=GoldenTime developers
DefaultDirName={autopf}\GoldenTime
DefaultGroupName=GoldenTime
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
PrivilegesRequired=admin
OutputDir=..\..\dist
OutputBaseFilename=goldentime-setup-{#AppVersion}
SetupIconFile=goldentime.ico
UninstallDisplayIcon={app}\goldentime.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ShowLanguageDialog=auto
; An upgrade (a newer setup over an older one) keeps ProgramData\GoldenTime: data, keys, settings, logs.
UsePreviousAppDir=yes
CloseApplications=yes

[Languages]
Name: "ko"; MessagesFile: "compiler:Languages\Korean.isl"
Name: "en"; MessagesFile: "compiler:Default.isl"

[CustomMessages]
ko.ConsoleName=골든타임 관제 콘솔
en.ConsoleName=GoldenTime Console
ko.WallName=골든타임 영상 월
en.WallName=GoldenTime Video Wall
ko.EngineTask=이 PC에서 동기화 엔진을 시작 시 자동 실행 (서버 PC)
en.EngineTask=Run the sync engine on this PC at start-up (the server PC)
ko.DoctorName=골든타임 점검 (doctor)
en.DoctorName=GoldenTime check (doctor)
ko.VlcMissing=64비트 VLC 3.0이 설치되어 있지 않습니다. 콘솔과 영상 월은 Qt Multimedia로 영상을 재생하지만, libVLC 재생기를 쓰려면 VLC(64비트)를 설치하십시오. 설치를 계속합니다.
en.VlcMissing=64-bit VLC 3.0 is not installed. The console and the wall play video with Qt Multimedia; for the libVLC player install VLC (64-bit). Setup continues.

[Tasks]
Name: "engine"; Description: "{cm:EngineTask}"; Flags: unchecked

[Dirs]
; The engine's data (database, keys) and logs: Administrators and SYSTEM only.
Name: "{#DataRoot}"; Permissions: admins-full system-full; Flags: uninsneveruninstall
Name: "{#DataRoot}\data"; Permissions: admins-full system-full; Flags: uninsneveruninstall
Name: "{#DataRoot}\logs"; Permissions: admins-full system-full; Flags: uninsneveruninstall

[Files]
; The PyInstaller folder: goldentime.exe, goldentime-console.exe, goldentime-wall.exe, the Python runtime,
; Qt (with QtWebEngine and Qt Multimedia's FFmpeg), vendored map libraries, translations, migrations, docs.
Source: "..\..\dist\goldentime\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; Settings: created on first install only, never overwritten by an upgrade, kept by uninstall.
Source: "settings.windows.toml"; DestDir: "{#DataRoot}"; DestName: "settings.toml"; Flags: onlyifdoesntexist uninsneveruninstall

[Icons]
Name: "{group}\{cm:ConsoleName}"; Filename: "{app}\goldentime-console.exe"; IconFilename: "{app}\goldentime.exe"
Name: "{group}\{cm:WallName}"; Filename: "{app}\goldentime-wall.exe"; IconFilename: "{app}\goldentime.exe"
Name: "{group}\{cm:DoctorName}"; Filename: "{cmd}"; Parameters: "/k ""{app}\goldentime.exe"" doctor --config ""{#DataRoot}\settings.toml"""
Name: "{autodesktop}\{cm:ConsoleName}"; Filename: "{app}\goldentime-console.exe"

[Run]
; Migrate at install (a failed migration shows here, not at the first start), then register the engine as
; a start-up task running as SYSTEM (Windows has no systemd; the task restarts it on failure).
Filename: "{app}\goldentime.exe"; Parameters: "migrate --config ""{#DataRoot}\settings.toml"" --data-dir ""{#DataRoot}\data"""; Flags: runhidden waituntilterminated; Tasks: engine
Filename: "{sys}\schtasks.exe"; Parameters: "/Create /F /TN ""GoldenTime Engine"" /SC ONSTART /RU SYSTEM /RL HIGHEST /TR ""\""{app}\goldentime.exe\"" engine --config \""{#DataRoot}\settings.toml\"" --data-dir \""{#DataRoot}\data\"""""; Flags: runhidden waituntilterminated; Tasks: engine
Filename: "{sys}\schtasks.exe"; Parameters: "/Run /TN ""GoldenTime Engine"""; Flags: runhidden waituntilterminated; Tasks: engine

[UninstallRun]
Filename: "{sys}\schtasks.exe"; Parameters: "/End /TN ""GoldenTime Engine"""; Flags: runhidden; RunOnceId: "EndEngine"
Filename: "{sys}\schtasks.exe"; Parameters: "/Delete /F /TN ""GoldenTime Engine"""; Flags: runhidden; RunOnceId: "DeleteEngine"

[Code]
function VlcInstalled(): Boolean;
begin
  Result := RegKeyExists(HKLM64, 'SOFTWARE\VideoLAN\VLC');
end;

function InitializeSetup(): Boolean;
begin
  if not VlcInstalled() then
    MsgBox(CustomMessage('VlcMissing'), mbInformation, MB_OK);
  Result := True;
end;
