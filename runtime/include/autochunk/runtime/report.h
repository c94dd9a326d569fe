/*===- report.h - timing and the run report of the AutoChunk runtime -*- C -*-=*
 *
 * A compiled model times its repeated runs with a monotonic clock, takes the
 * median, and writes what it measured to a JSON report (atomically). The
 * report is built key by key so that the ABI does not change when a field is
 * added; it refuses to be written without the fields every consumer relies
 * on: device, planned_activation_bytes, measured_activation_bytes,
 * weights_bytes, median_ms and repeat.
 *
 *===----------------------------------------------------------------------===*/

#ifndef AUTOCHUNK_RUNTIME_REPORT_H
#define AUTOCHUNK_RUNTIME_REPORT_H

#include "autochunk/runtime/arena.h"
#include "autochunk/runtime/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/*===------------------------------ timing -------------------------------===*/

/* Milliseconds on a monotonic clock (only differences are meaningful). */
double ac_now_ms(void);

/* The median of `count` > 0 samples (the mean of the two middle ones when
 * `count` is even). `samples` is left unchanged. */
ac_status ac_median(const double *samples, int64_t count, double *median);

/*===------------------------------ report -------------------------------===*/

typedef struct ac_report ac_report;

ac_status ac_report_create(ac_report **out);
void ac_report_destroy(ac_report *report);

/* Set (or replace) a top-level field. Keys are non-empty UTF-8; string values
 * must be UTF-8 too. "outputs" and "samples_ms" are reserved for the calls
 * below. */
ac_status ac_report_set_string(ac_report *report, const char *key,
                               const char *value);
ac_status ac_report_set_int(ac_report *report, const char *key, int64_t value);
ac_status ac_report_set_double(ac_report *report, const char *key,
                               double value);
ac_status ac_report_set_bool(ac_report *report, const char *key, int value);

/* Sets measured_activation_bytes (the high water mark), peak_live_bytes,
 * arena_bytes and, when known, peak_rss_bytes from `arena`. */
ac_status ac_report_set_arena(ac_report *report, const ac_arena *arena);

/* Sets "samples_ms" to the `count` timings, plus median_ms, min_ms and
 * max_ms computed from them. */
ac_status ac_report_set_samples_ms(ac_report *report, const double *samples,
                                   int64_t count);

/* Appends {"name", "dtype", "shape"} to the "outputs" list. */
ac_status ac_report_add_output(ac_report *report, const char *name,
                               const ac_tensor *tensor);

/* Writes the report as pretty JSON to `path`, atomically. */
ac_status ac_report_write(const ac_report *report, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* AUTOCHUNK_RUNTIME_REPORT_H */
