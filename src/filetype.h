/* filetype.h - placeholder until the module lands. */
#ifndef MAILPOST_FILETYPE_H
#define MAILPOST_FILETYPE_H
#endif
