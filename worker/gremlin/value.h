/*
 * worker/gremlin/value.h - the values a script computes with.
 *
 * A gr_value is small and passed by value; what it points to (strings,
 * lists, maps, elements, traversals) lives in the job arena and is shared,
 * never freed piece by piece.  Lists and maps are mutable, as in Groovy.
 * Integers are 64-bit (Groovy's int and long alike); decimals are doubles
 * (Groovy's BigDecimal literals, within double precision).  Not here:
 * evaluation (eval.c), traversals (trav.h), JSON results (result.c).
 */
#ifndef GR_VALUE_H
#define GR_VALUE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "worker/gremlin/gremlin.h"

/* Kind, the Java-ish type name error messages use. */
#define GR_VALUE_LIST(X)                                                    \
    X(GR_VAL_NULL, "null") X(GR_VAL_BOOL, "Boolean")                        \
    X(GR_VAL_INT, "Integer") X(GR_VAL_DOUBLE, "BigDecimal")                 \
    X(GR_VAL_STRING, "String") X(GR_VAL_LIST, "List") X(GR_VAL_MAP, "Map")  \
    X(GR_VAL_RANGE, "Range") X(GR_VAL_ELEM, "Element")                      \
    X(GR_VAL_TRAV, "Traversal") X(GR_VAL_OBJ, "Object")                     \
    X(GR_VAL_EXC, "Exception") X(GR_VAL_PRED, "P")

#define GR_X_VALUE_ENUM(id, name) id,
typedef enum { GR_VALUE_LIST(GR_X_VALUE_ENUM) GR_VAL_COUNT } gr_value_kind;

/* The built-in objects a script can name. */
#define GR_OBJ_LIST(X)                                                      \
    X(GR_OBJ_GRAPH, "graph") X(GR_OBJ_SOURCE, "graphtraversalsource")       \
    X(GR_OBJ_TX, "transaction") X(GR_OBJ_JOB, "gremlinJob")                 \
    X(GR_OBJ_T, "T") X(GR_OBJ_T_LABEL, "label") X(GR_OBJ_T_ID, "id")        \
    X(GR_OBJ_THREAD, "Thread") X(GR_OBJ_P, "P") X(GR_OBJ_ORDER, "Order")    \
    X(GR_OBJ_DIRECTION, "Direction") X(GR_OBJ_ANON, "__")                  \
    X(GR_OBJ_ASC, "asc") X(GR_OBJ_DESC, "desc")

#define GR_X_OBJ_ENUM(id, name) id,
typedef enum { GR_OBJ_LIST(GR_X_OBJ_ENUM) GR_OBJ_COUNT } gr_obj;

typedef struct gr_list  gr_list;
typedef struct gr_map   gr_map;
typedef struct gr_trav  gr_trav;
typedef struct gr_pred  gr_pred;

/* A caught exception, as "catch (Exception e)" binds it. */
typedef struct gr_exc {
    const char *kind;    /* "ArithmeticException" */
    const char *message; /* (in arena) */
} gr_exc;

typedef struct gr_value {
    gr_value_kind kind;
    union {
        int     b;
        int64_t i;
        double  d;
        struct {
            const char *s; /* NUL-terminated; may hold NULs inside */
            size_t      len;
        } str;
        gr_list *list;
        gr_map  *map;
        struct {
            int64_t from, count, step; /* from, from+step, ... count items */
        } range;
        gr_elem *elem;
        gr_trav *trav;
        gr_obj   obj;
        gr_exc  *exc;
        gr_pred *pred;
    } u;
} gr_value;

struct gr_list {
    gr_value *items;
    size_t    n, cap;
};

/* Insertion-ordered; keys compared with gr_value_equals. */
struct gr_map {
    gr_value *keys, *vals;
    size_t    n, cap;
};

/* A predicate, P.gt(3): op is a gr_pred_op (gremlin.h); within/without
 * hold their values in vals, the others their operands in a and b. */
struct gr_pred {
    int      op;
    gr_value a, b;
    gr_list *vals;
};

/* Whether v passes predicate p (Gremlin's semantics: comparisons need two
 * numbers, two strings or two booleans, else they are false). */
int gr_pred_test(const gr_pred *p, const gr_value *v);
/* The predicate's name ("gt"; static). */
const char *gr_pred_name(int op);

/* Constructors that cannot fail. */
gr_value gr_null(void);
gr_value gr_bool(int b);
gr_value gr_int(int64_t i);
gr_value gr_double(double d);
gr_value gr_obj_value(gr_obj obj);
/* A string value over s (borrowed: s must live as long as the arena). */
gr_value gr_str(const char *s, size_t len);

/* A copy of s in arena a; HT_ENOMEM past the arena cap. */
int gr_str_dup(ht_arena *a, const char *s, size_t len, gr_value *out);

/* A new empty list or map (in arena a); NULL past the cap. */
gr_list *gr_list_new(ht_arena *a, size_t cap);
gr_map  *gr_map_new(ht_arena *a);
/* Appends; HT_ENOMEM past the cap. */
int gr_list_push(ht_arena *a, gr_list *l, gr_value v);
/* Sets key to v (replacing an equal key's value); HT_ENOMEM past the cap. */
int gr_map_put(ht_arena *a, gr_map *m, gr_value key, gr_value v);
/* The value at key, or NULL. */
gr_value *gr_map_get(const gr_map *m, gr_value key);

/* A deep copy of e in arena a (strings copied; its properties shared by
 * reference, kept alive until a is freed).  NULL past the cap. */
gr_elem *gr_elem_copy(ht_arena *a, const gr_elem *e);
/* A deep copy of v in arena a: strings, lists, maps and elements are
 * copied so v may live in an arena freed before a; traversals,
 * predicates and exceptions (built by the script, in the job arena) are
 * shared.  HT_ENOMEM past the cap. */
int gr_value_copy(ht_arena *a, const gr_value *v, gr_value *out);

/* The name of a kind ("Integer"; static). */
const char *gr_value_type_name(const gr_value *v);
/* Groovy truth: null, false, 0, "", empty list/map/range are false. */
int gr_value_truthy(const gr_value *v);
/* Groovy ==: numbers by value (1 == 1.0), lists and maps by content,
 * elements by kind and id. */
int gr_value_equals(const gr_value *x, const gr_value *y);
/* Orders two numbers or two strings: *out < 0, 0, > 0.  Returns HT_OK or
 * HT_EINVAL when the two cannot be compared. */
int gr_value_compare(const gr_value *x, const gr_value *y, int *out);
/* Whether v is an integer or a decimal. */
int gr_value_is_number(const gr_value *v);
double gr_value_as_double(const gr_value *v);

/* Groovy's toString(): "1", "0.5", "[1, 2]", "[a:1]", "v[1]" (in arena a).
 * HT_ENOMEM past the cap. */
int gr_value_to_string(ht_arena *a, const gr_value *v, const char **s,
                       size_t *len);

/* A JSON value (from bindings or properties) as a script value (in arena
 * a).  HT_ENOMEM past the cap. */
int gr_value_from_json(ht_arena *a, const json_t *j, gr_value *out);

/* A property value as JSON (new reference, caller decrefs): null, booleans,
 * numbers, strings, and lists and maps of them.  HT_EINVAL for anything
 * else (elements, traversals), HT_ENOMEM if jansson fails. */
int gr_value_to_json_prop(const gr_value *v, json_t **out);

#endif
