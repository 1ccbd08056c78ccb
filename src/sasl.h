/* sasl.h - placeholder until the module lands. */
#ifndef MAILPOST_SASL_H
#define MAILPOST_SASL_H
#endif
