/* tls.h - placeholder until the module lands. */
#ifndef MAILPOST_TLS_H
#define MAILPOST_TLS_H
#endif
