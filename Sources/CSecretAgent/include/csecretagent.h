#ifndef CSYSTEM_H
#define CSYSTEM_H
int csystem_placeholder(void);
#endif
