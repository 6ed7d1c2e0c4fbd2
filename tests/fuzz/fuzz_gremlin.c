/*
 * tests/fuzz/fuzz_gremlin.c - libFuzzer target over the whole interpreter:
 * lexer, parser, checker, evaluator and result writer, on the in-memory
 * modern graph.
 *
 * Every input is a script.  The job has a step budget, a capped arena and
 * small result limits, and the host never sleeps, so each run is short;
 * anything that crashes, leaks (LeakSanitizer runs per input) or trips
 * UBSan is a finding.  Built only with -DHT_FUZZ=ON and clang (target
 * "fuzz"); tests/run.sh runs it for HT_FUZZ_SECONDS.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "tests/gremlin/mem_graph.h"
#include "worker/gremlin/gremlin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
host_check(void *arg, ht_err *err)
{
    int *checks = arg;

    /* now and then a cancel, so the interrupt paths are fuzzed too */
    if (++*checks == 5000)
        return ht_err_set(err, HT_ECANCELED, 0, NULL, "cancelled");
    return HT_OK;
}

static int
host_sleep(void *arg, int64_t ms, ht_err *err)
{
    (void) ms;
    return host_check(arg, err);
}

static void
host_progress(void *arg, int64_t value)
{
    (void) arg;
    (void) value;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char      *script;
    mem_graph *g;
    ht_arena  *a;
    gr_job     job;
    gr_host    host;
    char      *result = NULL;
    int        checks = 0;
    ht_err     err;

    if (size > 4096)
        return 0;
    script = malloc(size + 1);
    if (script == NULL)
        return 0;
    memcpy(script, data, size);
    script[size] = '\0';
    g = mem_graph_new();
    mem_graph_load_modern(g);
    a = ht_arena_new(0, 16u * 1024 * 1024);
    memset(&host, 0, sizeof(host));
    host.arg = &checks;
    host.check = host_check;
    host.sleep_ms = host_sleep;
    host.progress = host_progress;
    memset(&job, 0, sizeof(job));
    job.script = script;
    job.graph_name = "hugegraph";
    job.ops = &mem_graph_ops;
    job.graph = g;
    job.host = &host;
    job.arena = a;
    job.max_result_items = 10000;
    job.max_result_bytes = 1u << 20;
    job.max_steps = 20000;
    (void) gr_run(&job, &result);
    if (result == NULL)
        abort(); /* gr_run always answers with a result or a failure text */
    ht_err_clear(&err);
    (void) mem_graph_ops.rollback(g, &err);
    ht_arena_free(a);
    mem_graph_free(g);
    free(script);
    return 0;
}
