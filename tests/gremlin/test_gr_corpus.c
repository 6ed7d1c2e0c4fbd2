/*
 * tests/gremlin/test_gr_corpus.c - runs the data-driven corpus (*.test) on
 * the in-memory graph.
 *
 * A file holds tests; each test is directives, one per line:
 *   %%TEST name            starts a test on a fresh graph
 *   %%FIXTURE modern       loads TinkerPop's modern graph (default: empty)
 *   %%BINDINGS {...}       the job's bindings (JSON on one line)
 *   %%HOST k=v ...         cancel_after=N: check() cancels from its Nth call;
 *                          stop_after=N: check() fails with HT_ETIMEDOUT;
 *                          sleep_cancels=1: sleep_ms() reports a cancel
 *   %%LIMITS k=v ...       items=, bytes=, steps=, arena= (job limits)
 *   %%SCRIPT               the lines up to the next directive are a script;
 *                          several scripts in one test share the graph
 *   %%EXPECT               the lines up to the next directive: the result
 *   %%FAIL                 the same, for the exact failure text
 *   %%RC name              the code gr_run returns (OK, ECANCELED, ELIMIT...)
 *   %%STATE k=v ...        vertices=, edges=, committed= after the script
 *   %%PROGRESS n           the last gremlinJob.updateProgress value
 *   %%SLEPT n              milliseconds slept in total
 * Like the worker, the driver commits after a successful script and rolls
 * back after a failed one.  Lines starting with "#" outside a block are
 * comments.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "tests/gremlin/mem_graph.h"
#include "worker/gremlin/gremlin.h"

typedef struct host_state {
    int     checks, cancel_after, stop_after, sleep_cancels;
    int64_t slept, progress;
} host_state;

static int
host_check(void *arg, ht_err *err)
{
    host_state *h = arg;

    h->checks++;
    if (h->stop_after && h->checks >= h->stop_after)
        return ht_err_set(err, HT_ETIMEDOUT, 0, NULL, "task timed out");
    if (h->cancel_after && h->checks >= h->cancel_after)
        return ht_err_set(err, HT_ECANCELED, 0, NULL, "task cancelled");
    return HT_OK;
}

static int
host_sleep(void *arg, int64_t ms, ht_err *err)
{
    host_state *h = arg;

    h->slept += ms;
    if (h->sleep_cancels)
        return ht_err_set(err, HT_ECANCELED, 0, NULL, "sleep interrupted");
    return host_check(arg, err);
}

static void
host_progress(void *arg, int64_t value)
{
    ((host_state *) arg)->progress = value;
}

static const struct {
    const char *name;
    int         code;
} codes[] = {
    {"OK", HT_OK},           {"EINVAL", HT_EINVAL},
    {"ENOMEM", HT_ENOMEM},   {"ECANCELED", HT_ECANCELED},
    {"ETIMEDOUT", HT_ETIMEDOUT}, {"ELIMIT", HT_ELIMIT},
    {"ECONFLICT", HT_ECONFLICT},
};

typedef struct test {
    char        name[128];
    const char *file;
    int         line;
    mem_graph  *g;
    host_state  host;
    json_t     *bindings;
    size_t      max_items, max_bytes, arena_cap;
    int64_t     max_steps;
    /* the last run */
    int         ran, rc;
    char       *result;
    int         failed;
} test;

static int failures, passed;

static void
fail(test *t, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "%s:%d: test '%s': ", t->file, t->line, t->name);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    t->failed = 1;
}

static void
run_script(test *t, const char *script)
{
    ht_arena *a = ht_arena_new(0, t->arena_cap);
    gr_host   host = {&t->host, host_check, host_sleep, host_progress, NULL};
    gr_job    job;
    char     *result = NULL;
    ht_err    err;

    memset(&job, 0, sizeof(job));
    job.script = script;
    job.bindings = t->bindings;
    job.graph_name = "hugegraph";
    job.ops = &mem_graph_ops;
    job.graph = t->g;
    job.host = &host;
    job.arena = a;
    job.max_result_items = t->max_items;
    job.max_result_bytes = t->max_bytes;
    job.max_steps = t->max_steps;
    t->rc = gr_run(&job, &result);
    free(t->result);
    t->result = strdup(result ? result : "(null)");
    if (t->result == NULL)
        abort();
    ht_err_clear(&err);
    if (t->rc == HT_OK)
        (void) mem_graph_ops.commit(t->g, &err);
    else
        (void) mem_graph_ops.rollback(t->g, &err);
    t->ran = 1;
    ht_arena_free(a);
}

static void
end_test(test *t)
{
    if (t->g == NULL)
        return;
    if (!t->failed)
        passed++;
    else
        failures++;
    mem_graph_free(t->g);
    json_decref(t->bindings);
    free(t->result);
    memset(t, 0, sizeof(*t));
}

/* Parses "k=v k=v" into a callback-free table lookup. */
static long long
kv(const char *line, const char *key, long long dflt)
{
    char        pat[64];
    const char *p;

    (void) snprintf(pat, sizeof(pat), "%s=", key);
    p = strstr(line, pat);
    return p ? atoll(p + strlen(pat)) : dflt;
}

static void
check_block(test *t, const char *kind, const char *text)
{
    if (!t->ran) {
        fail(t, "%s before any %%%%SCRIPT%s", kind, "");
        return;
    }
    if (strcmp(kind, "EXPECT") == 0) {
        if (t->rc != HT_OK)
            fail(t, "expected success, got: %s%s", t->result, "");
        else if (strcmp(t->result, text) != 0)
            fail(t, "expected %s\n  got      %s", text, t->result);
    } else if (strcmp(kind, "FAIL") == 0) {
        if (t->rc == HT_OK)
            fail(t, "expected failure '%s', got success: %s", text, t->result);
        else if (strcmp(t->result, text) != 0)
            fail(t, "expected failure %s\n  got              %s", text,
                 t->result);
    }
}

static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long  n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t) n + 1);
    if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int
run_file(const char *path)
{
    char  *text = read_file(path);
    char  *line, *save = NULL, *block = NULL;
    char   kind[16] = "";
    size_t blen = 0;
    int    lineno = 0;
    test   t;

    if (text == NULL) {
        fprintf(stderr, "%s: cannot read\n", path);
        return 1;
    }
    memset(&t, 0, sizeof(t));
    block = calloc(1, strlen(text) + 1);
    if (block == NULL)
        abort();
    /* strtok_r would merge empty lines; walk by hand */
    line = text;
    for (;;) {
        char *nl = strchr(line, '\n');
        int   last = nl == NULL;

        if (nl)
            *nl = '\0';
        lineno++;
        if (last || strncmp(line, "%%", 2) == 0) {
            /* close the open block */
            while (blen > 0 && block[blen - 1] == '\n')
                block[--blen] = '\0';
            if (last && strncmp(line, "%%", 2) != 0 && kind[0]) {
                if (blen)
                    block[blen++] = '\n';
                memcpy(block + blen, line, strlen(line));
                blen += strlen(line);
                block[blen] = '\0';
                while (blen > 0 && block[blen - 1] == '\n')
                    block[--blen] = '\0';
            }
            if (strcmp(kind, "SCRIPT") == 0)
                run_script(&t, block);
            else if (kind[0])
                check_block(&t, kind, block);
            kind[0] = '\0';
            blen = 0;
            block[0] = '\0';
        }
        if (strncmp(line, "%%", 2) == 0) {
            const char *d = line + 2;

            if (strncmp(d, "TEST ", 5) == 0) {
                end_test(&t);
                (void) snprintf(t.name, sizeof(t.name), "%s", d + 5);
                t.file = path;
                t.g = mem_graph_new();
            } else if (t.g == NULL) {
                fprintf(stderr, "%s:%d: directive before %%%%TEST\n", path,
                        lineno);
                failures++;
            } else if (strncmp(d, "FIXTURE modern", 14) == 0) {
                mem_graph_load_modern(t.g);
            } else if (strncmp(d, "BINDINGS ", 9) == 0) {
                t.bindings = json_loads(d + 9, 0, NULL);
                if (t.bindings == NULL)
                    fail(&t, "bad bindings %s%s", d + 9, "");
            } else if (strncmp(d, "HOST ", 5) == 0) {
                t.host.cancel_after = (int) kv(d, "cancel_after", 0);
                t.host.stop_after = (int) kv(d, "stop_after", 0);
                t.host.sleep_cancels = (int) kv(d, "sleep_cancels", 0);
            } else if (strncmp(d, "LIMITS ", 7) == 0) {
                t.max_items = (size_t) kv(d, "items", 0);
                t.max_bytes = (size_t) kv(d, "bytes", 0);
                t.max_steps = kv(d, "steps", 0);
                t.arena_cap = (size_t) kv(d, "arena", 0);
            } else if (strncmp(d, "RC ", 3) == 0) {
                size_t i;

                t.line = lineno;
                for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
                    if (strcmp(codes[i].name, d + 3) == 0)
                        break;
                if (i == sizeof(codes) / sizeof(codes[0]))
                    fail(&t, "unknown code %s%s", d + 3, "");
                else if (codes[i].code != t.rc)
                    fail(&t, "expected code %s, result %s", d + 3, t.result);
            } else if (strncmp(d, "STATE ", 6) == 0) {
                char want[128], got[128];

                t.line = lineno;
                (void) snprintf(want, sizeof(want), "vertices=%lld edges=%lld "
                                "committed=%lld",
                                kv(d, "vertices", (long long) mem_graph_vertices(t.g)),
                                kv(d, "edges", (long long) mem_graph_edges(t.g)),
                                kv(d, "committed", (long long)
                                   mem_graph_committed_vertices(t.g)));
                (void) snprintf(got, sizeof(got), "vertices=%zu edges=%zu "
                                "committed=%zu", mem_graph_vertices(t.g),
                                mem_graph_edges(t.g),
                                mem_graph_committed_vertices(t.g));
                if (strcmp(want, got) != 0)
                    fail(&t, "expected state %s, got %s", want, got);
            } else if (strncmp(d, "PROGRESS ", 9) == 0) {
                char got[32];

                (void) snprintf(got, sizeof(got), "%lld",
                                (long long) t.host.progress);
                t.line = lineno;
                if (strcmp(got, d + 9) != 0)
                    fail(&t, "expected progress %s, got %s", d + 9, got);
            } else if (strncmp(d, "SLEPT ", 6) == 0) {
                char got[32];

                (void) snprintf(got, sizeof(got), "%lld",
                                (long long) t.host.slept);
                t.line = lineno;
                if (strcmp(got, d + 6) != 0)
                    fail(&t, "expected slept %s, got %s", d + 6, got);
            } else if (strcmp(d, "SCRIPT") == 0 || strcmp(d, "EXPECT") == 0 ||
                       strcmp(d, "FAIL") == 0) {
                (void) snprintf(kind, sizeof(kind), "%s", d);
                t.line = lineno;
            } else {
                fprintf(stderr, "%s:%d: unknown directive %s\n", path, lineno,
                        line);
                failures++;
            }
        } else if (kind[0]) {
            if (blen)
                block[blen++] = '\n';
            memcpy(block + blen, line, strlen(line));
            blen += strlen(line);
            block[blen] = '\0';
        }
        if (last)
            break;
        line = nl + 1;
    }
    end_test(&t);
    (void) save;
    free(block);
    free(text);
    return 0;
}

int
main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (run_file(argv[i]) != 0)
            failures++;
    printf("%d passed, %d failed\n", passed, failures);
    return failures ? 1 : 0;
}
