/* Test-only stand-in for Windows' bcryptprimitives.dll under Wine 8 (Debian 12).
 *
 * Rust's std (1.78+) takes its random bytes from ProcessPrng in bcryptprimitives.dll,
 * which Windows 10+ has and Wine 8 lacks: without this file beside a Rust .exe, Wine
 * cannot start it. This DLL exports ProcessPrng and fills the buffer from RtlGenRandom
 * (advapi32's SystemFunction036, which Wine implements). Never shipped: the installer
 * carries the app only, and real Windows has the real DLL. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
