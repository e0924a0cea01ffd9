/* cordon attack test (tests/attacks.rs, net_i386_and_x32_syscall_entry).
 * A 32-bit (i386) program, no libc: socketcall(SYS_SOCKET, {AF_INET,
 * SOCK_STREAM, 0}), then exit_group with a status that encodes the result:
 * 0 a socket was made, 1 EPERM, 2 ENOSYS, 3 any other error. Under cordon's
 * seccomp filter only exit and exit_group work for a foreign architecture,
 * so the status is the only way to report. */
    .text
    .globl _start
_start:
    pushl $0            /* protocol */
    pushl $1            /* SOCK_STREAM */
    pushl $2            /* AF_INET */
    movl $102, %eax     /* socketcall */
    movl $1, %ebx       /* SYS_SOCKET */
    movl %esp, %ecx
    int $0x80
    movl $0, %ebx
    cmpl $0, %eax
    jge 1f
    movl $1, %ebx
    cmpl $-1, %eax
    je 1f
    movl $2, %ebx
    cmpl $-38, %eax
    je 1f
    movl $3, %ebx
1:  movl $252, %eax     /* exit_group */
    int $0x80
    hlt
