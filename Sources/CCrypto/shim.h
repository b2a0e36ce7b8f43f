// OpenSSL's libcrypto (Debian: libssl-dev), for the SHA-256 and MD5 checksum lists that
// BagIt and Globus users check with (`checksums:`); libcurl already links it.
#include <openssl/evp.h>
