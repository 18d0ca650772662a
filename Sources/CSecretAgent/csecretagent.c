#define _GNU_SOURCE
#include "csecretagent.h"

#include <errno.h>
#include <link.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/vfs.h>
#include <sys/wait.h>

/* ---- processes ---- */

/* The kernel's struct sigaction (glibc's sigaction() refuses its internal
 * signals 32 and 33, which may still be ignored and would survive execve). */
struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

/* Only async-signal-safe calls: used between fork and execve. */
static void reset_signals(void) {
    struct kernel_sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        (void)syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof dfl.mask);
    }
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

pid_t csa_spawn(const char *path, char *const argv[], char *const envp[],
                int pdeathsig, int *errno_out) {
    const int inherit[3] = {-1, -1, -1};
    return csa_spawn_stdio(path, argv, envp, pdeathsig, inherit, errno_out);
}

pid_t csa_spawn_stdio(const char *path, char *const argv[], char *const envp[],
                      int pdeathsig, const int stdio[3], int *errno_out) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        *errno_out = errno;
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        *errno_out = errno;
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        reset_signals();
        if (pdeathsig > 0) {
            if (prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0) != 0) {
                int e = errno;
                (void)!write(fds[1], &e, sizeof e);
                _exit(127);
            }
            if (getppid() != parent) _exit(1); /* the parent died before prctl */
        }
        for (int i = 0; i < 3; i++) {
            if (stdio[i] < 0) continue;
            /* dup2 clears FD_CLOEXEC on the copy; a descriptor already at i keeps it: clear it. */
            int rc = stdio[i] == i ? fcntl(i, F_SETFD, 0) : dup2(stdio[i], i);
            if (rc < 0) {
                int e = errno;
                (void)!write(fds[1], &e, sizeof e);
                _exit(127);
            }
        }
        execve(path, argv, envp);
        int e = errno;
        (void)!write(fds[1], &e, sizeof e);
        _exit(127);
    }
    close(fds[1]);
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(fds[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    close(fds[0]);
    if (n == (ssize_t)sizeof child_errno) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *errno_out = child_errno;
        return -1;
    }
    *errno_out = 0;
    return pid;
}

int csa_exec_in_place(const char *path, char *const argv[], char *const envp[]) {
    static struct kernel_sigaction saved[NSIG];
    sigset_t saved_mask;
    pthread_sigmask(SIG_SETMASK, NULL, &saved_mask);
    for (int s = 1; s < NSIG; s++)
        (void)syscall(SYS_rt_sigaction, s, NULL, &saved[s], sizeof saved[s].mask);
    reset_signals();
    execve(path, argv, envp);
    int e = errno;
    for (int s = 1; s < NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        (void)syscall(SYS_rt_sigaction, s, &saved[s], NULL, sizeof saved[s].mask);
    }
    pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    errno = e;
    return -1;
}

int csa_disable_core_dumps(void) {
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return -1;
    struct rlimit rl;
    if (getrlimit(RLIMIT_CORE, &rl) != 0) return -1;
    rl.rlim_cur = 0;
    return setrlimit(RLIMIT_CORE, &rl);
}

int csa_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

pid_t csa_reap_one(int *status_out) {
    pid_t pid;
    do {
        pid = waitpid(-1, status_out, WNOHANG);
    } while (pid < 0 && errno == EINTR);
    return pid;
}

int csa_wait_exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
int csa_wait_term_signal(int status) { return WIFSIGNALED(status) ? WTERMSIG(status) : -1; }

/* ---- signals ---- */

int csa_sigrtmin(void) { return SIGRTMIN; }
int csa_sigrtmax(void) { return SIGRTMAX; }

static const int standard_signals[] = {
    SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD,
    SIGWINCH, SIGURG, SIGIO, SIGPWR, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGSTKFLT,
};

int csa_agent_signals(int *out, int capacity) {
    int n = 0;
    int count = (int)(sizeof standard_signals / sizeof standard_signals[0]);
    for (int i = 0; i < count; i++, n++)
        if (n < capacity) out[n] = standard_signals[i];
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++, n++)
        if (n < capacity) out[n] = s;
    return n;
}

static void agent_set(sigset_t *set) {
    int sigs[NSIG];
    int n = csa_agent_signals(sigs, NSIG);
    sigemptyset(set);
    for (int i = 0; i < n && i < NSIG; i++) sigaddset(set, sigs[i]);
}

int csa_block_signals_for_agent(void) {
    sigset_t set;
    agent_set(&set);
    int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

int csa_signalfd_for_agent(void) {
    sigset_t set;
    agent_set(&set);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int csa_signalfd_read(int fd, csa_siginfo *out) {
    struct signalfd_siginfo info;
    ssize_t n;
    do {
        n = read(fd, &info, sizeof info);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    if (n != (ssize_t)sizeof info) {
        errno = EIO;
        return -1;
    }
    out->signo = (int32_t)info.ssi_signo;
    out->code = info.ssi_code;
    out->pid = (int32_t)info.ssi_pid;
    out->uid = info.ssi_uid;
    return 1;
}

static volatile int signal_pipe_write = -1;

static void agent_handler(int signo, siginfo_t *info, void *context) {
    (void)context;
    int saved = errno;
    csa_siginfo record = {signo, info ? info->si_code : 0, info ? info->si_pid : 0, info ? info->si_uid : 0};
    if (signal_pipe_write >= 0) (void)!write(signal_pipe_write, &record, sizeof record);
    errno = saved;
}

int csa_signal_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC | O_NONBLOCK); }

int csa_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int csa_install_agent_handlers(int write_fd) {
    signal_pipe_write = write_fd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = agent_handler;
    agent_set(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
    int sigs[NSIG];
    int n = csa_agent_signals(sigs, NSIG);
    for (int i = 0; i < n && i < NSIG; i++)
        if (sigaction(sigs[i], &sa, NULL) != 0) return -1;
    return 0;
}

int csa_signal_pipe_wake(int write_fd) {
    csa_siginfo record = {0, 0, 0, 0};
    return write(write_fd, &record, sizeof record) == (ssize_t)sizeof record ? 0 : -1;
}

int csa_signal_pipe_read(int read_fd, csa_siginfo *out) {
    ssize_t n;
    do {
        n = read(read_fd, out, sizeof *out);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    if (n == 0) return 0;
    if (n != (ssize_t)sizeof *out) { /* records are written atomically: cannot happen */
        errno = EIO;
        return -1;
    }
    return 1;
}

/* ---- poll ---- */

int csa_poll2(int fd_a, int fd_b, int timeout_ms, int *ready_a, int *ready_b) {
    struct pollfd fds[2] = {{fd_a, POLLIN, 0}, {fd_b, POLLIN, 0}};
    int rc = poll(fds, 2, timeout_ms);
    if (rc < 0 && errno == EINTR) rc = 0;
    *ready_a = rc > 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) ? 1 : 0;
    *ready_b = rc > 0 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) ? 1 : 0;
    return rc;
}

/* ---- file systems ---- */

int csa_statfs_type(const char *path, int64_t *type_out) {
    struct statfs s;
    if (statfs(path, &s) != 0) return -1;
    *type_out = (int64_t)s.f_type;
    return 0;
}

int csa_mount_tmpfs(const char *path, unsigned int mode, unsigned int size_mb) {
    char options[64];
    if (size_mb > 0)
        snprintf(options, sizeof options, "mode=%o,size=%um", mode & 07777, size_mb);
    else
        snprintf(options, sizeof options, "mode=%o", mode & 07777);
    return mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options);
}

/* ---- memory ---- */

struct csa_release {
    long advised;
    int error;
};

static int csa_release_segments(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct csa_release *out = data;
    /* The first object is the main executable; libraries are shared with other processes. */
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t relro_lo = 0, relro_hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_RELRO) {
            relro_lo = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
            relro_hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) & ~(page - 1);
        }
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W)) continue;
        /* Whole pages inside the segment only. */
        uintptr_t lo = (info->dlpi_addr + ph->p_vaddr + page - 1) & ~(page - 1);
        uintptr_t hi = (info->dlpi_addr + ph->p_vaddr + ph->p_filesz) & ~(page - 1);
        if (relro_hi > relro_lo && lo < relro_hi && hi > relro_lo) {
            /* Never the relocated constants: discarding them would undo the relocations. */
            if (lo >= relro_lo) lo = relro_hi;
            if (hi <= relro_hi) hi = relro_lo;
        }
        if (hi <= lo) continue;
        munlock((void *)lo, hi - lo);
        (void)madvise((void *)lo, hi - lo, 21 /* MADV_PAGEOUT */);
        if (madvise((void *)lo, hi - lo, MADV_DONTNEED) != 0) {
            out->error = errno;
            continue;
        }
        out->advised += (long)(hi - lo);
    }
    return 1; /* the main executable only */
}

long csa_release_code_pages(void) {
    struct csa_release out = {0, 0};
    dl_iterate_phdr(csa_release_segments, &out);
    if (out.advised == 0 && out.error != 0) {
        errno = out.error;
        return -1;
    }
    return out.advised;
}
