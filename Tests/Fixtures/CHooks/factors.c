/* Plain C functions an operator binds to hook points in plugins.conf ([hooks]); the tests build
 * this file with the system C compiler. Nothing here knows about Stelltron. */
#include <stdint.h>

/* pricing.f_time: double(int32) — a flat tariff: afternoons dear, mornings cheap. */
double f_time(int32_t hour) { return hour >= 12 ? 2.0 : 0.5; }

/* probe.factor: double(double) — half of the input (the probe plugin's test hook point). */
double half(double x) { return x / 2; }

/* scheduler.node: int32(double, double) — discharge above half charge, charge below it. */
int32_t node_policy(double voltage, double soc) {
    if (voltage < 3.0) return 0;
    return soc > 50.0 ? 2 : 1;
}
