/*
 * SIGQUIT back to its default for the C programs that link libswiftvmstate.so.
 *
 * The Swift runtime the library loads (libswiftCore.so) starts its backtracer when it is
 * loaded, before main: it takes SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP and SIGQUIT
 * where they were at their default (docs/C-API.md, "Signals"). For the crash signals the
 * process still dies with the signal, after a crash report; for SIGQUIT it prints a report and
 * the program goes on, so Ctrl-\ or `kill -QUIT` no longer ends a hung emulator. This
 * constructor runs after the runtime's (a library's dependencies are initialized first) and puts
 * SIGQUIT back to SIG_DFL when the runtime's handler holds it, unless the environment sets
 * SWIFT_BACKTRACE (whoever sets it asks for the backtracer). A handler of the program's own, or
 * of a sanitizer, is left alone; so are the crash signals' handlers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Whether `handler` is code of libswiftCore.so (the dynamic Swift runtime: the vmstate tool links
 * it statically, and its handler is then the tool's own, left alone). */
static int vmstate_in_swift_runtime(void *handler)
{
    Dl_info info;
    if (dladdr(handler, &info) == 0 || info.dli_fname == NULL) {
        return 0;
    }
    const char *slash = strrchr(info.dli_fname, '/');
    const char *base = slash != NULL ? slash + 1 : info.dli_fname;
    return strncmp(base, "libswiftCore.so", strlen("libswiftCore.so")) == 0;
}

__attribute__((constructor)) static void vmstate_restore_sigquit(void)
{
    if (getenv("SWIFT_BACKTRACE") != NULL) {
        return;
    }
    struct sigaction current;
    if (sigaction(SIGQUIT, NULL, &current) != 0) {
        return;
    }
    void *handler = (current.sa_flags & SA_SIGINFO) != 0 ? (void *)current.sa_sigaction
                                                         : (void *)current.sa_handler;
    if (current.sa_handler == SIG_DFL || current.sa_handler == SIG_IGN || !vmstate_in_swift_runtime(handler)) {
        return;
    }
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(SIGQUIT, &fallback, NULL);
}
