#ifndef SOFTCOPY_CURL_H
#define SOFTCOPY_CURL_H

#include <curl/curl.h>

// Typed wrappers for libcurl's variadic calls, which Swift cannot make
// (the pattern swift-corelibs-foundation uses in CFURLSessionInterface).

CURLcode softcopy_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode softcopy_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode softcopy_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode softcopy_curl_setopt_string(CURL *handle, CURLoption option, const char *value);

typedef size_t (*softcopy_curl_data_callback)(char *data, size_t size, size_t count, void *userdata);
CURLcode softcopy_curl_setopt_write_function(CURL *handle, softcopy_curl_data_callback callback);
CURLcode softcopy_curl_setopt_header_function(CURL *handle, softcopy_curl_data_callback callback);
CURLcode softcopy_curl_setopt_read_function(CURL *handle, softcopy_curl_data_callback callback);

// Called by libcurl during a transfer (at least once a second, even when idle); a
// non-zero return aborts it.
typedef int (*softcopy_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
CURLcode softcopy_curl_setopt_xferinfo_function(CURL *handle, softcopy_curl_xferinfo_callback callback);

CURLcode softcopy_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode softcopy_curl_getinfo_string(CURL *handle, CURLINFO info, const char **value);
CURLcode softcopy_curl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value);

#endif
