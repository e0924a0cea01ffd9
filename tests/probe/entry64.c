/* cordon attack test (tests/attacks.rs, net_i386_and_x32_syscall_entry):
 * network and file syscalls through the i386 (int $0x80)
 * and x32 entry points of an x86_64 kernel, from a 64-bit static program.
 * Usage: entry MODE where MODE is
 *   i386-socketcall  socketcall(SYS_SOCKET, {AF_INET, SOCK_STREAM, 0})
 *   i386-socket      socket(AF_INET, SOCK_STREAM, 0)   (i386 nr 359)
 *   i386-creat PATH  creat(PATH, 0644)                 (i386 nr 8)
 *   x32-socket       socket with __X32_SYSCALL_BIT     (x32 nr 41)
 * Prints {"op":MODE,"ret":N} and exits 0 on success (ret >= 0), 1 on -EPERM,
 * 2 on -ENOSYS, 3 on any other error. int $0x80 truncates pointers to 32
 * bits, so every buffer it is given is a static (below 4 GiB in a non-PIE
 * static binary). */
#include <stdio.h>
#include <string.h>

static unsigned int args[3];
static char path[4096];

static long int80(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return (int)ret; /* the i386 ABI returns a 32-bit value */
}

static long x32(long nr, long a, long b, long c) {
    long ret;
    register long r10 __asm__("r10") = 0;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return ret;
}

int main(int argc, char **argv) {
    long ret;
    if (argc < 2) return 4;
    const char *mode = argv[1];
    if (!strcmp(mode, "i386-socketcall")) {
        args[0] = 2; args[1] = 1; args[2] = 0;
        ret = int80(102, 1, (long)(unsigned long)args, 0);
    } else if (!strcmp(mode, "i386-socket")) {
        ret = int80(359, 2, 1, 0);
    } else if (!strcmp(mode, "i386-creat") && argc == 3 && strlen(argv[2]) < sizeof path) {
        strcpy(path, argv[2]);
        ret = int80(8, (long)(unsigned long)path, 0644, 0);
    } else if (!strcmp(mode, "x32-socket")) {
        ret = x32(0x40000000L | 41, 2, 1, 0);
    } else {
        return 4;
    }
    printf("{\"op\":\"%s\",\"ret\":%ld}\n", mode, ret);
    fflush(stdout);
    if (ret >= 0) return 0;
    if (ret == -1) return 1;
    if (ret == -38) return 2;
    return 3;
}
