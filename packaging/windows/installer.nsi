; The Windows installer of IT Vision Desk, built by Debian's makensis (nsis 3.08) from Linux:
; Tauri's own NSIS target downloads its plugins from GitHub, which the build machines cannot
; reach. Only what Debian ships is used: Modern UI 2, LogicLib, FileFunc, x64 and the System
; plugin (COM calls for the shortcut's AppUserModelID).
;
; Per user, no administrator: %LOCALAPPDATA%\Programs\IT Vision Desk, keys under HKCU.
; French by default, English when Windows runs in English.
;
; Build with scripts/windows-installer.sh, or by hand (the file is UTF-8, hence the charset):
;   makensis -INPUTCHARSET UTF8 -DEXE=itv-desk-app.exe -DVERSION=0.1.0 \
;     -DOUTFILE=setup.exe -DICON=icons/icon.ico [-DWEBVIEW2LOADER=WebView2Loader.dll] \
;     packaging/windows/installer.nsi

!macro REQUIRE name
  !ifndef ${name}
    !error "define ${name} (makensis -D${name}=...): see the header of installer.nsi"
  !endif
!macroend
!insertmacro REQUIRE EXE
!insertmacro REQUIRE VERSION
!insertmacro REQUIRE OUTFILE
!insertmacro REQUIRE ICON
; VIProductVersion wants four numbers; the script passes them, a hand build may not.
!ifndef VIVERSION
  !define VIVERSION "${VERSION}.0"
!endif

Unicode true
; The app is x86_64 only; a 64-bit installer reads the registry without WOW64 redirection.
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma
RequestExecutionLevel user

!define PRODUCT "IT Vision Desk"
!define APPEXE "itv-desk-app.exe"
!define AUMID "sn.itvision.desk"
!define PUBLISHER "IT Vision"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${AUMID}"
!define AUMID_KEY "Software\Classes\AppUserModelId\${AUMID}"
!define PROTO_KEY "Software\Classes\itv"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define STARTUP_APPROVED_KEY "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
!define WEBVIEW2_GUID "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define WEBVIEW2_URL "https://go.microsoft.com/fwlink/p/?LinkId=2124703"
; The default window class of tauri-runtime-wry 2 and the window title of tauri.conf.json.
!define APP_WINDOW_CLASS "Tauri Window"
!define APP_WINDOW_TITLE "IT Vision Desk"
!define LNK "$SMPROGRAMS\${PRODUCT}.lnk"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"
BrandingText "${PUBLISHER}"

VIProductVersion "${VIVERSION}"
VIAddVersionKey /LANG=0 "ProductName" "${PRODUCT}"
VIAddVersionKey /LANG=0 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=0 "LegalCopyright" "© IT Vision, Dakar"
VIAddVersionKey /LANG=0 "FileDescription" "${PRODUCT} ${VERSION} setup"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"

!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh
!include x64.nsh

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\${APPEXE}"
!define MUI_FINISHPAGE_RUN_TEXT "$(LaunchApp)"
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!define MUI_FINISHPAGE_TEXT "$(UninstFinish)"
!insertmacro MUI_UNPAGE_FINISH

; The first language is the fallback when Windows' language is neither.
!insertmacro MUI_LANGUAGE "French"
!insertmacro MUI_LANGUAGE "English"

LangString LaunchApp ${LANG_FRENCH} "Lancer ${PRODUCT}"
LangString LaunchApp ${LANG_ENGLISH} "Launch ${PRODUCT}"
LangString AppRunning ${LANG_FRENCH} "${PRODUCT} est en cours d'exécution.$\r$\n$\r$\nQuittez-le (icône de la zone de notification → Quitter), puis cliquez sur Réessayer."
LangString AppRunning ${LANG_ENGLISH} "${PRODUCT} is running.$\r$\n$\r$\nQuit it (notification area icon → Quit), then click Retry."
LangString WebView2Missing ${LANG_FRENCH} "${PRODUCT} a besoin de Microsoft Edge WebView2, qui n'est pas installé sur cet ordinateur.$\r$\n$\r$\nOuvrir la page de téléchargement de Microsoft maintenant ?"
LangString WebView2Missing ${LANG_ENGLISH} "${PRODUCT} needs Microsoft Edge WebView2, which is not installed on this computer.$\r$\n$\r$\nOpen Microsoft's download page now?"
LangString UninstFinish ${LANG_FRENCH} "${PRODUCT} a été désinstallé.$\r$\n$\r$\nVos données sont conservées (le cache dans %LOCALAPPDATA%\${AUMID}) : supprimez ce dossier pour les effacer."
LangString UninstFinish ${LANG_ENGLISH} "${PRODUCT} has been uninstalled.$\r$\n$\r$\nYour data is kept (the cache in %LOCALAPPDATA%\${AUMID}): delete that folder to erase it."

Var LogFile

; A line in $INSTDIR\install.log and in the details list: silent installs leave a trace.
!macro LOG text
  DetailPrint "${text}"
  FileWriteUTF16LE $LogFile "${text}$\r$\n"
!macroend

; Refuses to overwrite (or remove) a running app: its window by class and title, or the
; installed .exe that Windows will not open for writing while it runs. Retry or cancel;
; a silent run cancels with exit code 2.
!macro CHECK_APP_RUNNING un
Function ${un}CheckAppRunning
  retry:
  StrCpy $1 ""
  FindWindow $0 "${APP_WINDOW_CLASS}" "${APP_WINDOW_TITLE}"
  ${If} $0 <> 0
    StrCpy $1 "window"
  ${ElseIf} ${FileExists} "$INSTDIR\${APPEXE}"
    ClearErrors
    FileOpen $2 "$INSTDIR\${APPEXE}" a
    ${If} ${Errors}
      StrCpy $1 "exe in use"
    ${Else}
      FileClose $2
    ${EndIf}
  ${EndIf}
  ${If} $1 != ""
    MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "$(AppRunning)" /SD IDCANCEL IDRETRY retry
    DetailPrint "${PRODUCT} is running ($1): cancelled"
    SetErrorLevel 2
    Abort
  ${EndIf}
FunctionEnd
!macroend
!insertmacro CHECK_APP_RUNNING ""
!insertmacro CHECK_APP_RUNNING "un."

; Puts System.AppUserModel.ID on the Start-menu shortcut: Windows attributes the toasts of an
; unpackaged app to the AUMID of its shortcut. CreateShortcut cannot, so the .lnk is loaded
; through IShellLinkW's IPersistFile, the key set through its IPropertyStore, and saved.
; Leaves "ok" or the failing step and HRESULT in $R0, the key and value as set in $R2.
Function SetShortcutAUMID
  Push $0
  Push $1
  Push $2
  Push $3
  Push $4
  Push $5
  Push $6
  Push $7
  Push $8
  Push $9
  StrCpy $R2 ""
  StrCpy $1 0
  StrCpy $2 0
  StrCpy $3 0
  StrCpy $R0 "ok"
  System::Call "ole32::CoInitialize(p 0) i .r7"
  ; CLSID_ShellLink, IID_IShellLinkW
  System::Call "ole32::CoCreateInstance(g '{00021401-0000-0000-C000-000000000046}', p 0, i 1, \
    g '{000214F9-0000-0000-C000-000000000046}', *p .r1) i .r0"
  ${If} $0 <> 0
    StrCpy $R0 "CoCreateInstance $0"
    Goto done
  ${EndIf}
  ; IUnknown::QueryInterface(IID_IPersistFile)
  System::Call "$1->0(g '{0000010b-0000-0000-C000-000000000046}', *p .r2) i .r0"
  ${If} $0 <> 0
    StrCpy $R0 "IPersistFile $0"
    Goto done
  ${EndIf}
  ; IPersistFile::Load(path, STGM_READWRITE)
  System::Call "$2->5(w '${LNK}', i 2) i .r0"
  ${If} $0 <> 0
    StrCpy $R0 "Load $0"
    Goto done
  ${EndIf}
  ; IUnknown::QueryInterface(IID_IPropertyStore)
  System::Call "$1->0(g '{886D8EEB-8CF2-4446-8D02-CDBA1DBDCF99}', *p .r3) i .r0"
  ${If} $0 <> 0
    StrCpy $R0 "IPropertyStore $0"
    Goto done
  ${EndIf}
  ; PROPERTYKEY PKEY_AppUserModel_ID; PROPVARIANT { VT_LPWSTR (31), 3 reserved, pwszVal }
  System::Call "*(&w32 '${AUMID}') p .r6"
  System::Call "*(g '{9F4C2855-9F79-4B39-A8D0-E1D42DE1D5F3}', i 5) p .r4"
  System::Call "*(&i2 31, &i2 0, &i2 0, &i2 0, p r6, p 0) p .r5"
  ; Read back, for the log: a mistyped key would be accepted by Windows and be useless.
  System::Call "*$4(g .r8, i .r9)"
  StrCpy $R2 "$8,$9"
  System::Call "*$5(&i2 .r8, &i2, &i2, &i2, p .r9)"
  System::Call "*$9(&w32 .r9)"
  StrCpy $R2 "$R2 = VT $8 '$9'"
  ; IPropertyStore::SetValue, then ::Commit (the store copies the value)
  System::Call "$3->6(p r4, p r5) i .r0"
  ${If} $0 = 0
    System::Call "$3->7() i .r0"
    ${If} $0 <> 0
      StrCpy $R0 "Commit $0"
    ${EndIf}
  ${Else}
    StrCpy $R0 "SetValue $0"
  ${EndIf}
  System::Free $4
  System::Free $5
  System::Free $6
  ${If} $R0 == "ok"
    ; IPersistFile::Save(path, fRemember)
    System::Call "$2->6(w '${LNK}', i 1) i .r0"
    ${If} $0 <> 0
      StrCpy $R0 "Save $0"
    ${EndIf}
  ${EndIf}
  done:
  ; IUnknown::Release of what was obtained
  ${If} "$3" != "0"
    System::Call "$3->2()"
  ${EndIf}
  ${If} "$2" != "0"
    System::Call "$2->2()"
  ${EndIf}
  ${If} "$1" != "0"
    System::Call "$1->2()"
  ${EndIf}
  ${If} $7 >= 0
    System::Call "ole32::CoUninitialize()"
  ${EndIf}
  Pop $9
  Pop $8
  Pop $7
  Pop $6
  Pop $5
  Pop $4
  Pop $3
  Pop $2
  Pop $1
  Pop $0
FunctionEnd

; WebView2's version ("pv") where Microsoft documents it: per machine (64- and 32-bit
; Windows) and per user. Leaves it in $R1, or "" when the runtime is absent.
Function FindWebView2
  StrCpy $R1 ""
  SetRegView 64
  ReadRegStr $R1 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_GUID}" "pv"
  ${If} $R1 == ""
  ${OrIf} $R1 == "0.0.0.0"
    ReadRegStr $R1 HKLM "SOFTWARE\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_GUID}" "pv"
  ${EndIf}
  ${If} $R1 == ""
  ${OrIf} $R1 == "0.0.0.0"
    ReadRegStr $R1 HKCU "Software\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_GUID}" "pv"
  ${EndIf}
  ${If} $R1 == ""
  ${OrIf} $R1 == "0.0.0.0"
    ReadRegStr $R1 HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_GUID}" "pv"
  ${EndIf}
  ${If} $R1 == "0.0.0.0"
    StrCpy $R1 ""
  ${EndIf}
FunctionEnd

Section "IT Vision Desk" SecMain
  SectionIn RO
  SetShellVarContext current
  Call CheckAppRunning
  SetOutPath "$INSTDIR"
  SetOverwrite on
  File "/oname=${APPEXE}" "${EXE}"
  !ifdef WEBVIEW2LOADER
    ; The GNU build of the app links WebView2Loader.dll dynamically: it must sit beside it.
    File "/oname=WebView2Loader.dll" "${WEBVIEW2LOADER}"
  !endif
  File "/oname=icon.ico" "${ICON}"
  WriteUninstaller "$INSTDIR\Uninstall.exe"

  ; UTF-16 with a BOM: user names (hence paths) may have accents.
  FileOpen $LogFile "$INSTDIR\install.log" w
  FileWriteUTF16LE /BOM $LogFile ""
  !insertmacro LOG "${PRODUCT} ${VERSION} installed in $INSTDIR"

  ; Start menu, with the AppUserModelID the app's notifications use.
  CreateShortcut "${LNK}" "$INSTDIR\${APPEXE}" "" "$INSTDIR\${APPEXE}" 0
  Call SetShortcutAUMID
  !insertmacro LOG "Start-menu shortcut ${LNK}: AppUserModelID ${AUMID}: $R0 ($R2)"

  ; The AUMID also registered, so toasts keep name and icon without the shortcut.
  WriteRegStr HKCU "${AUMID_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${AUMID_KEY}" "IconUri" "$INSTDIR\icon.ico"

  ; itv:// deep links (itv://request/<id>) open the request in the running app.
  WriteRegStr HKCU "${PROTO_KEY}" "" "URL:${PRODUCT}"
  WriteRegStr HKCU "${PROTO_KEY}" "URL Protocol" ""
  WriteRegStr HKCU "${PROTO_KEY}\DefaultIcon" "" '"$INSTDIR\${APPEXE}",0'
  WriteRegStr HKCU "${PROTO_KEY}\shell\open\command" "" '"$INSTDIR\${APPEXE}" "%1"'

  ; Apps & features.
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" '"$INSTDIR\${APPEXE}",0'
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\Uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\Uninstall.exe" /S'
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" "$0"

  ; The app cannot start without WebView2: say so, offer Microsoft's page; silent: log only.
  Call FindWebView2
  ${If} $R1 == ""
    !insertmacro LOG "Microsoft Edge WebView2 not found: ${PRODUCT} needs it (${WEBVIEW2_URL})"
    MessageBox MB_YESNO|MB_ICONINFORMATION "$(WebView2Missing)" /SD IDNO IDNO +2
      ExecShell "open" "${WEBVIEW2_URL}"
  ${Else}
    !insertmacro LOG "Microsoft Edge WebView2 $R1 found"
  ${EndIf}
  FileClose $LogFile
SectionEnd

Section "Uninstall"
  SetShellVarContext current
  Call un.CheckAppRunning
  Delete "$INSTDIR\${APPEXE}"
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\icon.ico"
  Delete "$INSTDIR\install.log"
  Delete "$INSTDIR\Uninstall.exe"
  ; Not /r: only what the installer put there goes, the folder too when then empty.
  RMDir "$INSTDIR"
  Delete "${LNK}"

  DeleteRegKey HKCU "${PROTO_KEY}"
  DeleteRegKey HKCU "${AUMID_KEY}"
  DeleteRegKey HKCU "${UNINST_KEY}"
  ; The login autostart the app writes (tauri-plugin-autostart: the Run value and its
  ; StartupApproved twin, both named after the product).
  DeleteRegValue HKCU "${RUN_KEY}" "${PRODUCT}"
  DeleteRegValue HKCU "${STARTUP_APPROVED_KEY}" "${PRODUCT}"
  ; The user's data, %LOCALAPPDATA%\sn.itvision.desk, is kept on purpose (finish page).
SectionEnd
