/* nvtlbi: empty stand-in; the definitions come from stubs.h */
