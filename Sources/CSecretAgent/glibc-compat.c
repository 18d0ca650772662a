// Keeps the binary runnable on glibc 2.34 (RHEL 9, Amazon Linux 2023).
//
// glibc 2.35 gave hypot and hypotf a new symbol version; a binary linked against a newer glibc
// (Debian 12 has 2.36) then needs GLIBC_2.35 and does not start on 2.34 at all, though the agent
// never computes a hypotenuse (the reference comes from the statically linked Swift runtime).
// Defining them here resolves those references inside the binary. Scaled, so no overflow.
#include <math.h>

double hypot(double x, double y) {
    x = fabs(x);
    y = fabs(y);
    if (isinf(x) || isinf(y)) return INFINITY;
    if (isnan(x) || isnan(y)) return NAN;
    double big = x > y ? x : y, small = x > y ? y : x;
    if (big == 0) return 0;
    double ratio = small / big;
    return big * sqrt(1 + ratio * ratio);
}

float hypotf(float x, float y) {
    return (float)hypot((double)x, (double)y);
}
