#ifndef CSECRETAGENT_H
#define CSECRETAGENT_H

/* Small Linux shims for calls Swift's Glibc module does not expose well:
 * fork/exec with a parent-death signal, signalfd, prctl, statfs, mount.
 * Every function returns -1 and sets errno on failure unless stated otherwise. */

#include <stdint.h>
#include <sys/types.h>

/* si_code values (asm-generic/siginfo.h). */
#define CSA_SI_USER 0
#define CSA_SI_KERNEL 0x80
/* statfs f_type values of memory-backed file systems. */
#define CSA_TMPFS_MAGIC 0x01021994
#define CSA_RAMFS_MAGIC 0x858458f6

/* ---- processes ---- */

/* Forks and execs `path` (no PATH search) with argv/envp (NULL-terminated).
 * In the child: every disposition back to SIG_DFL, empty signal mask,
 * PR_SET_PDEATHSIG(pdeathsig) if pdeathsig > 0 (and _exit(1) if the parent is
 * already gone), then execve. Returns the pid, or -1 with the fork or execve
 * errno in *errno_out (an exec failure is reported through a CLOEXEC pipe and
 * the failed child is reaped here). Call it from a thread that lives as long
 * as the process: the death signal fires when the forking *thread* exits. */
pid_t csa_spawn(const char *path, char *const argv[], char *const envp[],
                int pdeathsig, int *errno_out);

/* csa_spawn with the child's standard descriptors: stdio[i] >= 0 becomes the
 * child's descriptor i (dup2, so a close-on-exec pipe end works); -1 inherits. */
pid_t csa_spawn_stdio(const char *path, char *const argv[], char *const envp[],
                      int pdeathsig, const int stdio[3], int *errno_out);

/* Resets every disposition to SIG_DFL, unblocks every signal and execve()s in
 * place (same pid). Returns only on failure (-1, errno); then the previous
 * mask and dispositions are restored. */
int csa_exec_in_place(const char *path, char *const argv[], char *const envp[]);

/* prctl(PR_SET_DUMPABLE, 0) and a soft RLIMIT_CORE of 0 (children inherit it). */
int csa_disable_core_dumps(void);

/* prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to us. */
int csa_set_child_subreaper(void);

/* One waitpid(-1, &status, WNOHANG): the pid reaped, 0 if none is ready, -1
 * (errno ECHILD) if there is no child at all. */
pid_t csa_reap_one(int *status_out);

/* Decoding of a wait status: exit code if exited, otherwise -1. */
int csa_wait_exit_code(int status);
/* Decoding of a wait status: terminating signal if signaled, otherwise -1. */
int csa_wait_term_signal(int status);

/* ---- signals ---- */

int csa_sigrtmin(void);
int csa_sigrtmax(void);

/* The asynchronous signals the agent handles through its signalfd: HUP INT
 * QUIT USR1 USR2 PIPE ALRM TERM CHLD WINCH URG IO PWR VTALRM PROF XCPU XFSZ
 * STKFLT and SIGRTMIN..SIGRTMAX. Never the synchronous ones (SEGV BUS FPE ILL
 * TRAP ABRT SYS) nor the job-control ones (TSTP TTIN TTOU CONT).
 * Writes up to `capacity` numbers into `out`; returns how many exist. */
int csa_agent_signals(int *out, int capacity);

/* pthread_sigmask(SIG_BLOCK) of the agent's signals in the calling thread. */
int csa_block_signals_for_agent(void);

/* signalfd for the agent's signals, SFD_CLOEXEC | SFD_NONBLOCK. */
int csa_signalfd_for_agent(void);

/* What the agent needs from a struct signalfd_siginfo. */
typedef struct csa_siginfo {
    int32_t signo;
    int32_t code;   /* si_code: CSA_SI_USER for kill(), CSA_SI_KERNEL for the tty... */
    int32_t pid;    /* sender, for kill()/sigqueue() */
    uint32_t uid;
} csa_siginfo;

/* Reads one record: 1 read, 0 nothing pending (EAGAIN), -1 error. */
int csa_signalfd_read(int fd, csa_siginfo *out);

/* The hub's self-pipe (O_CLOEXEC | O_NONBLOCK both ends): fds[0] read, fds[1] write. */
int csa_signal_pipe(int fds[2]);

/* Installs an SA_SIGINFO handler (SA_RESTART | SA_NOCLDSTOP, the other agent
 * signals masked while it runs) for every agent signal: it writes the record
 * to `write_fd`. Needed because a thread may leave them unblocked: with an
 * async main, libdispatch parks the main thread in sigsuspend(empty mask),
 * which takes every process-directed signal before the signalfd can. */
int csa_install_agent_handlers(int write_fd);

/* Writes a record with signo 0 (a wake-up for queued commands). */
int csa_signal_pipe_wake(int write_fd);

/* Reads one record from the pipe: 1 read, 0 nothing pending, -1 error. */
int csa_signal_pipe_read(int read_fd, csa_siginfo *out);

/* poll() on two descriptors for reading; timeout_ms < 0 waits forever.
 * Returns poll's result; sets *ready_a / *ready_b to 0 or 1. EINTR is 0. */
int csa_poll2(int fd_a, int fd_b, int timeout_ms, int *ready_a, int *ready_b);

/* pipe2(fds, O_CLOEXEC): both ends close-on-exec from the start, so no child
 * forked by another thread in between inherits them. */
int csa_pipe_cloexec(int fds[2]);

/* ---- file systems ---- */

/* statfs(path).f_type into *type_out. */
int csa_statfs_type(const char *path, int64_t *type_out);

/* mount -t tmpfs -o mode=MODE[,size=SIZEm] (size_mb 0: the kernel default)
 * with MS_NOSUID | MS_NODEV | MS_NOEXEC. Needs CAP_SYS_ADMIN. */
int csa_mount_tmpfs(const char *path, unsigned int mode, unsigned int size_mb);

/* ---- memory ---- */

/* The main executable's read-only segments (code and constant data: never
 * written, never holding a secret) handed back after start-up: unlocked
 * (mlockall locked them as they were touched), reclaimed where only this
 * process maps them (MADV_PAGEOUT, Linux 5.4+) and unmapped where others do
 * too (MADV_DONTNEED: they fault back in from the file when used again).
 * Writable and RELRO segments are never touched. Returns the bytes of the
 * ranges advised (0 when none), or -1 with errno. */
long csa_release_code_pages(void);

#endif
