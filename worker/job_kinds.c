/*
 * worker/job_kinds.c - task type -> run function.  Algorithm jobs are added
 * here as rows.
 */
#include "worker/job.h"

#include <string.h>

static const wk_kind kinds[] = {
    { "gremlin", "org.apache.hugegraph.job.GremlinJob", wk_run_gremlin },
};

const wk_kind *
wk_kind_find(const char *type)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (type != NULL && strcmp(kinds[i].type, type) == 0)
            return &kinds[i];
    return NULL;
}
