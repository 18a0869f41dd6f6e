/* A fast webhook receiver for the delivery benchmark: answers every POST with 204
 * and counts them; GET /count returns the count. Not part of the product. */
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>

static atomic_long received;

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **state) {
    static int first;
    if (*state == NULL) { *state = &first; return MHD_YES; }
    if (*upload_size) { *upload_size = 0; return MHD_YES; }       /* discard the body */
    char text[32] = "";
    unsigned int status = 204;
    if (strcmp(method, "GET") == 0) { snprintf(text, sizeof text, "%ld", atomic_load(&received)); status = 200; }
    else atomic_fetch_add(&received, 1);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 9090;
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, port, NULL, NULL, handler, NULL,
                                            MHD_OPTION_THREAD_POOL_SIZE, 2, MHD_OPTION_CONNECTION_LIMIT, 4096, MHD_OPTION_END);
    if (!d) { perror("MHD_start_daemon"); return 1; }
    sigset_t set; sigemptyset(&set); sigaddset(&set, SIGTERM); sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sig; sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
