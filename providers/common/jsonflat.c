/* SPDX-License-Identifier: MIT */
/* Flattens JSON documents into named entries (see jsonflat.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <envinject/provider.h>
#include <jansson.h>
#include <sodium.h>

#include "parse_error.h"
#include "emit.h"
#include "jsonflat.h"

/* Deepest path (base segments included) and deepest nesting of arrays
   and objects inside a value; keeps recursion bounded whatever the tree. */
#define JF_MAX_DEPTH 64
/* Room for any integer or real text: 20 digits and a sign, or 17 digits,
   sign, point, exponent. */
#define JF_NUM_LEN 40
/* %.17g always reads back to the same double. */
#define JF_MAX_PRECISION 17
/* The locator when the caller gave no name. */
#define JF_NO_NAME "json"

struct jf_walk {
    const char *path[JF_MAX_DEPTH];
    size_t n;
    const char *what;
    ei_emit_fn emit;
    void *ctx;
    struct ei_error *err;
};

/* Either counts (buf NULL) or writes: the same code measures the text and
   then fills an exactly sized buffer, so a value never sits in a buffer
   that realloc could leave behind unwiped. */
struct jf_out {
    char *buf;
    size_t cap;
    size_t len;
    bool overflow;
    bool js; /* numbers as JavaScript writes them (flag values) */
};

/* Names are not secret, but they may hold control characters, and an
   error text must stay on one line. */
void ei_jsonflat_path_text(const char *const *path, size_t n, char *out,
                           size_t out_len)
{
    size_t o = 0;
    if (out_len == 0)
        return;
    for (size_t i = 0; i < n && o + 1 < out_len; i++) {
        if (i > 0)
            out[o++] = '.';
        for (const char *p = path[i]; *p != '\0' && o + 1 < out_len; p++) {
            unsigned char c = (unsigned char)*p;
            out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        }
    }
    out[o] = '\0';
}

static int jf_real_text(double d, char *out, size_t out_len)
{
    char tmp[JF_NUM_LEN];
    int n = -1;
    for (int prec = 1; prec <= JF_MAX_PRECISION; prec++) {
        n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (n < 0 || (size_t)n >= sizeof(tmp)) {
            n = -1;
            break;
        }
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* %g switches to an exponent early (1000.0 reads "1e+03"); people
       write ports and sizes, so moderate magnitudes get plain digits */
    double mag = d < 0 ? -d : d;
    if (n >= 0 && strchr(tmp, 'e') != NULL && mag >= 1e-5 && mag < 1e17) {
        for (int dec = 0; dec <= JF_MAX_PRECISION + 5; dec++) {
            int m = snprintf(tmp, sizeof(tmp), "%.*f", dec, d);
            if (m < 0 || (size_t)m >= sizeof(tmp))
                break;
            if (strtod(tmp, NULL) == d) {
                n = m;
                break;
            }
        }
    }
    if (n >= 0 && (size_t)n < out_len)
        memcpy(out, tmp, (size_t)n + 1);
    else
        n = -1;
    sodium_memzero(tmp, sizeof(tmp));
    return n;
}

/*
 * A number as JavaScript's Number.prototype.toString writes it (ECMA-262
 * Number::toString): the shortest digits that read back to d, plain
 * notation for exponents from -7 to 20, else "1e+21", "1.5e-7".
 */
int ei_json_js_number(double d, char *out, size_t out_len)
{
    if (out == NULL || out_len == 0 || d != d || d - d != 0)
        return -1;
    if (d == 0)
        d = 0; /* -0 is "0" */
    char e[JF_NUM_LEN], digits[JF_MAX_PRECISION + 2], res[JF_NUM_LEN + 24];
    int k = 0, exp10 = 0;
    for (int prec = 0; prec < JF_MAX_PRECISION; prec++) {
        int m = snprintf(e, sizeof(e), "%.*e", prec, d);
        if (m < 0 || (size_t)m >= sizeof(e))
            return -1;
        if (strtod(e, NULL) == d)
            break;
    }
    /* e is "-d.ddde+XX": the digits, then the exponent */
    const char *p = e;
    bool neg = *p == '-';
    if (neg)
        p++;
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[k++] = *p;
    exp10 = atoi(p + 1);
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    int n = exp10 + 1; /* d = 0.DIGITS x 10^n */
    size_t o = 0;
    if (neg)
        res[o++] = '-';
    if (k <= n && n <= 21) {
        memcpy(res + o, digits, (size_t)k);
        o += (size_t)k;
        for (int i = k; i < n; i++)
            res[o++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(res + o, digits, (size_t)n);
        o += (size_t)n;
        res[o++] = '.';
        memcpy(res + o, digits + n, (size_t)(k - n));
        o += (size_t)(k - n);
    } else if (-6 < n && n <= 0) {
        res[o++] = '0';
        res[o++] = '.';
        for (int i = 0; i < -n; i++)
            res[o++] = '0';
        memcpy(res + o, digits, (size_t)k);
        o += (size_t)k;
    } else {
        res[o++] = digits[0];
        if (k > 1) {
            res[o++] = '.';
            memcpy(res + o, digits + 1, (size_t)(k - 1));
            o += (size_t)(k - 1);
        }
        int m = snprintf(res + o, sizeof(res) - o, "e%c%d",
                         n - 1 < 0 ? '-' : '+', n - 1 < 0 ? 1 - n : n - 1);
        if (m < 0)
            return -1;
        o += (size_t)m;
    }
    int r = -1;
    if (o < out_len) {
        memcpy(out, res, o);
        out[o] = '\0';
        r = (int)o;
    }
    sodium_memzero(e, sizeof(e));
    sodium_memzero(digits, sizeof(digits));
    sodium_memzero(res, sizeof(res));
    return r;
}

/* An integer as JavaScript holds it: exact up to 2^53, a double past. */
static int jf_js_integer(json_int_t i, char *out, size_t out_len)
{
    const json_int_t exact = (json_int_t)1 << 53;
    if (i >= -exact && i <= exact) {
        int n = snprintf(out, out_len, "%" JSON_INTEGER_FORMAT, i);
        return n < 0 || (size_t)n >= out_len ? -1 : n;
    }
    return ei_json_js_number((double)i, out, out_len);
}

/* Scalars other than strings, which are used in place. */
static int jf_small_text(const json_t *j, char *out, size_t out_len)
{
    int n;
    switch (json_typeof(j)) {
    case JSON_INTEGER:
        n = snprintf(out, out_len, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(j));
        break;
    case JSON_REAL:
        return jf_real_text(json_real_value(j), out, out_len);
    case JSON_TRUE:
        n = snprintf(out, out_len, "true");
        break;
    case JSON_FALSE:
        n = snprintf(out, out_len, "false");
        break;
    case JSON_NULL:
        n = snprintf(out, out_len, "%s", "");
        break;
    default:
        return -1;
    }
    if (n < 0 || (size_t)n >= out_len)
        return -1;
    return n;
}

int ei_jsonflat_scalar(const json_t *j, char *out, size_t out_len)
{
    if (j == NULL || out == NULL || out_len == 0)
        return -1;
    int n;
    if (json_is_string(j)) {
        size_t len = json_string_length(j);
        const char *s = json_string_value(j);
        /* A string with a NUL cannot become a value; say so rather than
           cut it short. */
        if (len >= out_len || len > INT32_MAX || memchr(s, '\0', len) != NULL)
            n = -1;
        else {
            memcpy(out, s, len);
            out[len] = '\0';
            n = (int)len;
        }
    } else
        n = jf_small_text(j, out, out_len);
    if (n < 0)
        sodium_memzero(out, out_len);
    return n;
}

static void jf_put(struct jf_out *o, const char *s, size_t len)
{
    if (len > SIZE_MAX - 1 - o->len) {
        o->overflow = true;
        return;
    }
    if (o->buf != NULL && o->len + len <= o->cap)
        memcpy(o->buf + o->len, s, len);
    o->len += len;
}

static void jf_put_string(struct jf_out *o, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    jf_put(o, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t esc_len = 2;
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            if (c >= 0x20) {
                run++;
                continue;
            }
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            esc_len = 6;
            break;
        }
        jf_put(o, s + i - run, run);
        run = 0;
        jf_put(o, esc, esc_len);
    }
    jf_put(o, s + len - run, run);
    jf_put(o, "\"", 1);
}

size_t ei_json_quoted(const char *s, size_t len, char *out)
{
    struct jf_out o = {out, out != NULL ? SIZE_MAX : 0, 0, false, false};
    jf_put_string(&o, s, len);
    return o.len;
}

/* Compact JSON like json_dumps(JSON_COMPACT), but with reals in the same
   shortest form as scalars.  The depth was checked by jf_depth_ok. */
static void jf_put_json(struct jf_out *o, json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        jf_put(o, "{", 1);
        const char *key;
        size_t key_len;
        json_t *v;
        bool first = true;
        json_object_keylen_foreach(j, key, key_len, v)
        {
            if (!first)
                jf_put(o, ",", 1);
            first = false;
            jf_put_string(o, key, key_len);
            jf_put(o, ":", 1);
            jf_put_json(o, v);
        }
        jf_put(o, "}", 1);
        break;
    }
    case JSON_ARRAY: {
        jf_put(o, "[", 1);
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            if (i > 0)
                jf_put(o, ",", 1);
            jf_put_json(o, v);
        }
        jf_put(o, "]", 1);
        break;
    }
    case JSON_STRING:
        jf_put_string(o, json_string_value(j), json_string_length(j));
        break;
    case JSON_NULL:
        /* Only a value of its own is written as the empty string. */
        jf_put(o, "null", 4);
        break;
    default: {
        char num[JF_NUM_LEN];
        int n;
        if (o->js && json_is_integer(j))
            n = jf_js_integer(json_integer_value(j), num, sizeof(num));
        else if (o->js && json_is_real(j))
            n = ei_json_js_number(json_real_value(j), num, sizeof(num));
        else
            n = jf_small_text(j, num, sizeof(num));
        if (n < 0)
            o->overflow = true;
        else
            jf_put(o, num, (size_t)n);
        sodium_memzero(num, sizeof(num));
        break;
    }
    }
}

/* level: the nesting level of j, counting path segments first; every
   value, scalars too, must sit at level 64 or less. */
static bool jf_depth_ok(json_t *j, size_t level)
{
    if (level > JF_MAX_DEPTH)
        return false;
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            if (!jf_depth_ok(v, level + 1))
                return false;
        }
    } else if (json_is_object(j)) {
        const char *key;
        json_t *v;
        json_object_foreach(j, key, v)
        {
            if (!jf_depth_ok(v, level + 1))
                return false;
        }
    }
    return true;
}

static enum ei_status jf_too_deep(struct jf_walk *w)
{
    return ei_parse_error(w->err, EI_BADDATA, w->what,
                          "nesting deeper than %d levels", JF_MAX_DEPTH);
}

static enum ei_status jf_emit(struct jf_walk *w, const char *value,
                              size_t value_len)
{
    if (w->emit(w->ctx, w->path, w->n, value, value_len, 0, 0, w->err) != 0)
        return ei_error_status(w->err, EI_INTERNAL);
    return EI_OK;
}

static enum ei_status jf_nul_in_string(struct jf_walk *w)
{
    char path[EI_ERR_TEXT_LEN];
    ei_jsonflat_path_text(w->path, w->n, path, sizeof(path));
    return ei_parse_error(w->err, EI_BADDATA, w->what,
                          "%s: string holds a NUL byte", path);
}

/* Runs jf_put_json or the scalar join twice: once to measure, once into
   an exactly sized buffer, which is wiped after the callback. */
static enum ei_status jf_emit_built(struct jf_walk *w, json_t *arr,
                                    void (*build)(struct jf_out *, json_t *))
{
    struct jf_out o = {NULL, 0, 0, false, false};
    build(&o, arr);
    if (o.overflow)
        return ei_parse_error(w->err, EI_NOMEM, w->what, "value too large");
    size_t cap = o.len;
    char *buf = malloc(cap + 1);
    if (buf == NULL)
        return ei_parse_error(w->err, EI_NOMEM, w->what, "out of memory");
    o = (struct jf_out){buf, cap, 0, false, false};
    build(&o, arr);
    enum ei_status st;
    if (o.overflow || o.len != cap)
        st = ei_parse_error(w->err, EI_INTERNAL, w->what,
                            "value changed size while being written");
    else {
        buf[cap] = '\0';
        st = jf_emit(w, buf, cap);
    }
    sodium_memzero(buf, cap + 1);
    free(buf);
    return st;
}

static void jf_put_joined(struct jf_out *o, json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (i > 0)
            jf_put(o, ",", 1);
        if (json_is_string(v))
            jf_put(o, json_string_value(v), json_string_length(v));
        else if (!json_is_null(v))
            jf_put_json(o, v);
    }
}

static enum ei_status jf_array(struct jf_walk *w, json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_array(v) || json_is_object(v)) {
            if (!jf_depth_ok(arr, w->n))
                return jf_too_deep(w);
            /* JSON text escapes a NUL, so only joined text refuses it. */
            return jf_emit_built(w, arr, jf_put_json);
        }
    }
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) &&
            memchr(json_string_value(v), '\0', json_string_length(v)) != NULL)
            return jf_nul_in_string(w);
    }
    return jf_emit_built(w, arr, jf_put_joined);
}

static enum ei_status jf_scalar(struct jf_walk *w, json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (memchr(s, '\0', len) != NULL)
            return jf_nul_in_string(w);
        return jf_emit(w, s, len);
    }
    char num[JF_NUM_LEN];
    int n = jf_small_text(v, num, sizeof(num));
    enum ei_status st;
    if (n < 0)
        st = ei_parse_error(w->err, EI_INTERNAL, w->what,
                            "unexpected JSON type");
    else
        st = jf_emit(w, num, (size_t)n);
    sodium_memzero(num, sizeof(num));
    return st;
}

static enum ei_status jf_object(struct jf_walk *w, json_t *obj)
{
    const char *key;
    size_t key_len;
    json_t *v;
    json_object_keylen_foreach(obj, key, key_len, v)
    {
        char path[EI_ERR_TEXT_LEN];
        if (key_len == 0 || memchr(key, '\0', key_len) != NULL) {
            ei_jsonflat_path_text(w->path, w->n, path, sizeof(path));
            return ei_parse_error(
                w->err, EI_BADDATA, w->what, "%s%s%s",
                path[0] != '\0' ? path : "", path[0] != '\0' ? ": " : "",
                key_len == 0 ? "empty member name"
                             : "member name holds a NUL byte");
        }
        if (w->n >= JF_MAX_DEPTH)
            return jf_too_deep(w);
        w->path[w->n++] = key;
        enum ei_status st;
        if (json_is_object(v))
            st = jf_object(w, v);
        else if (json_is_array(v))
            st = jf_array(w, v);
        else
            st = jf_scalar(w, v);
        w->n--;
        if (st != EI_OK)
            return st;
    }
    return EI_OK;
}

static const char *jf_type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    default:
        return "an object";
    }
}

enum ei_status ei_jsonflat_walk(const json_t *root, const char *const *base,
                                size_t base_n, const char *what,
                                ei_emit_fn emit, void *ctx,
                                struct ei_error *err)
{
    if (what == NULL)
        what = JF_NO_NAME;
    if (root == NULL || emit == NULL || (base == NULL && base_n > 0))
        return ei_parse_error(err, EI_INTERNAL, what,
                              "bad arguments to the walk");
    if (!json_is_object(root))
        return ei_parse_error(err, EI_BADDATA, what,
                              "top level is %s, expected an object",
                              jf_type_name(root));
    if (json_object_size(root) == 0)
        return EI_OK;
    struct jf_walk w = {.what = what, .emit = emit, .ctx = ctx, .err = err};
    if (base_n >= JF_MAX_DEPTH)
        return jf_too_deep(&w);
    for (size_t i = 0; i < base_n; i++)
        w.path[i] = base[i];
    w.n = base_n;
    /* jansson's iterators take a non-const object, yet only read it. */
    return jf_object(&w, (json_t *)root);
}

/* jansson quotes the input near an error ("invalid token near 'xyz'"),
   and a few messages quote escapes or bytes of a string: all of that may
   be part of a secret, so only jansson's own words are kept. */
static void jf_syntax_text(const json_error_t *je, char *out, size_t out_len)
{
    static const char *const cuts[] = {" near '", " '\\u", " 0x"};
    char text[JSON_ERROR_TEXT_LENGTH];
    snprintf(text, sizeof(text), "%s", je->text);
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        char *p = strstr(text, cuts[i]);
        if (p != NULL)
            *p = '\0';
    }
    if (je->column > 0)
        snprintf(out, out_len, "%s at column %d", text, je->column);
    else
        snprintf(out, out_len, "%s", text);
    sodium_memzero(text, sizeof(text));
}

enum ei_status ei_jsonflat_load(const char *buf, size_t len, const char *what,
                                json_t **out, struct ei_error *err)
{
    *out = NULL;
    if (what == NULL)
        what = JF_NO_NAME;
    if (buf == NULL && len > 0)
        return ei_parse_error(err, EI_INTERNAL, what,
                              "bad arguments to the parser");
    json_error_t je;
    /* DECODE_ANY so that a scalar top level gets a clear message, and
       ALLOW_NUL so that a NUL in a string is reported with its path. */
    json_t *root = json_loadb(
        buf != NULL ? buf : "", len,
        JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (root == NULL) {
        char loc[EI_ERR_LOCATOR_LEN];
        char text[EI_ERR_TEXT_LEN];
        if (je.line > 0)
            snprintf(loc, sizeof(loc), "%s:%d", what, je.line);
        else
            snprintf(loc, sizeof(loc), "%s", what);
        enum ei_status st = EI_BADDATA;
        /* jansson fails without a message only when an allocation did. */
        if (je.text[0] == '\0' ||
            json_error_code(&je) == json_error_out_of_memory) {
            st = EI_NOMEM;
            snprintf(text, sizeof(text), "out of memory parsing JSON");
        } else if (json_error_code(&je) == json_error_null_byte_in_key)
            snprintf(text, sizeof(text), "member name holds a NUL byte");
        else
            jf_syntax_text(&je, text, sizeof(text));
        sodium_memzero(&je, sizeof(je));
        return ei_parse_error(err, st, loc, "%s", text);
    }
    *out = root;
    return EI_OK;
}

enum ei_status ei_jsonflat_parse(const char *buf, size_t len, const char *what,
                                 ei_emit_fn emit, void *ctx,
                                 struct ei_error *err)
{
    json_t *root = NULL;
    enum ei_status st = ei_jsonflat_load(buf, len, what, &root, err);
    if (st != EI_OK)
        return st;
    st = ei_jsonflat_walk(root, NULL, 0, what, emit, ctx, err);
    json_decref(root);
    return st;
}

json_t *ei_json_load_reply(const char *body, size_t len, const char *what,
                           const char *reply, struct ei_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(body != NULL ? body : "", body != NULL ? len : 0,
                              JSON_REJECT_DUPLICATES, &je);
    if (root != NULL)
        return root;
    /* jansson fails without a message only when an allocation did */
    if (je.text[0] == '\0' ||
        json_error_code(&je) == json_error_out_of_memory) {
        ei_parse_error(err, EI_NOMEM, what, "out of memory parsing JSON");
        return NULL;
    }
    /* jansson quotes the input near an error: it may be a value */
    char text[JSON_ERROR_TEXT_LENGTH];
    snprintf(text, sizeof(text), "%s", je.text);
    static const char *const cuts[] = {" near ", " '\\u", "\\u", " 0x"};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        char *p = strstr(text, cuts[i]);
        if (p != NULL)
            *p = '\0';
    }
    ei_parse_error(err, EI_BADDATA, what,
                   "%s: malformed JSON at byte %d of %zu%s%s", reply,
                   je.position, len, text[0] != '\0' ? ": " : "", text);
    sodium_memzero(&je, sizeof(je));
    sodium_memzero(text, sizeof(text));
    return NULL;
}

char *ei_json_flag_text(const json_t *j, size_t *len)
{
    if (j == NULL)
        return NULL;
    if (json_is_string(j)) {
        size_t n = json_string_length(j);
        const char *v = json_string_value(j);
        if (memchr(v, '\0', n) != NULL)
            return NULL;
        char *out = malloc(n + 1);
        if (out == NULL)
            return NULL;
        memcpy(out, v, n + 1);
        if (len != NULL)
            *len = n;
        return out;
    }
    if (json_is_null(j)) {
        char *out = calloc(1, 1);
        if (out != NULL && len != NULL)
            *len = 0;
        return out;
    }
    json_t *v = (json_t *)j; /* jf_put_json only reads */
    if (!jf_depth_ok(v, 0))
        return NULL;
    struct jf_out o = {NULL, 0, 0, false, true};
    jf_put_json(&o, v);
    if (o.overflow)
        return NULL;
    size_t cap = o.len;
    char *buf = malloc(cap + 1);
    if (buf == NULL)
        return NULL;
    o = (struct jf_out){buf, cap, 0, false, true};
    jf_put_json(&o, v);
    if (o.overflow || o.len != cap) {
        sodium_memzero(buf, cap + 1);
        free(buf);
        return NULL;
    }
    buf[cap] = '\0';
    if (len != NULL)
        *len = cap;
    return buf;
}

char *ei_json_dumps(const json_t *j, size_t flags, size_t *len)
{
    char *dumped = j != NULL ? json_dumps(j, flags) : NULL;
    if (dumped == NULL)
        return NULL;
    size_t n = strlen(dumped);
    char *out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, dumped, n + 1);
        if (len != NULL)
            *len = n;
    }
    json_free_t jfree = NULL;
    json_get_alloc_funcs(NULL, &jfree);
    sodium_memzero(dumped, n);
    if (jfree != NULL)
        jfree(dumped);
    return out;
}
