// libcurl as Swift sees it. curl_easy_setopt/getinfo are variadic: typed wrappers.
#ifndef PORTALD_CCURL_SHIM_H
#define PORTALD_CCURL_SHIM_H
#include <stdint.h>
#include <stddef.h>
#include <curl/curl.h>

static inline CURLcode portald_curl_setopt_long(CURL *c, CURLoption o, long v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode portald_curl_setopt_ptr(CURL *c, CURLoption o, const void *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode portald_curl_setopt_off(CURL *c, CURLoption o, curl_off_t v) { return curl_easy_setopt(c, o, v); }

static inline long portald_curl_response_code(CURL *c) {
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

/// The response body is not needed: count it and drop it.
static inline size_t portald_curl_discard(char *data, size_t size, size_t count, void *user) {
    (void) data; (void) user;
    return size * count;
}

/// Aborts a transfer once `*(const volatile int *) user` becomes non-zero (shutdown).
static inline int portald_curl_abort_check(void *user, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
    (void) a; (void) b; (void) c; (void) d;
    return user != NULL && __atomic_load_n((const int *) user, __ATOMIC_RELAXED) != 0;
}

/// Sets the callbacks above (function pointers pass through the variadic setopt here).
static inline void portald_curl_set_callbacks(CURL *c, const int *abort_flag) {
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, portald_curl_discard);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, portald_curl_abort_check);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *) abort_flag);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
}

static inline void portald_curl_set_abort(int *flag) { __atomic_store_n(flag, 1, __ATOMIC_RELAXED); }
static inline int portald_curl_is_aborted(const int *flag) { return __atomic_load_n(flag, __ATOMIC_RELAXED); }
#endif
