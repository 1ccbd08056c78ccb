/* secret.h - placeholder until the module lands. */
#ifndef MAILPOST_SECRET_H
#define MAILPOST_SECRET_H
#endif
