/* The container log in Docker's json-file format, one JSON object per line:
 *   {"log":"hello\n","stream":"stdout","time":"2026-11-23T04:28:19.123456789Z"}
 * Output is split on newlines; a line longer than 16 KiB is written in 16 KiB pieces
 * without the trailing newline (as Docker does), and so is a partial line at EOF.
 * The string escaping is Docker's (jsonlog's ffjson writer): \" \\ \n \r, other
 * control characters and < > & as \u00XX, U+2028/U+2029 escaped, and each byte
 * that is not part of valid UTF-8 replaced by U+FFFD.
 * Rotation: before a line that would take the file past max_size, log.N-1 is
 * dropped, log.i becomes log.i+1, log becomes log.1 (max_files 1: truncate). */
#include "monitor_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char hex[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (Go's utf8.DecodeRune rules), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t len) {
  unsigned char b = s[0];
  size_t need;
  unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
  if (b >= 0xc2 && b <= 0xdf)
    need = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 3;
    if (b == 0xe0)
      lo = 0xa0; /* no overlong forms */
    else if (b == 0xed)
      hi = 0x9f; /* no surrogates */
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 4;
    if (b == 0xf0)
      lo = 0x90;
    else if (b == 0xf4)
      hi = 0x8f; /* nothing above U+10FFFF */
  } else
    return 0;
  if (len < need || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < need; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return need;
}

size_t mon_json_escape(char *out, const char *data, size_t len) {
  const unsigned char *s = (const unsigned char *)data;
  size_t o = 0, i = 0;
  while (i < len) {
    unsigned char b = s[i];
    if (b < 0x80) {
      if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&') {
        out[o++] = (char)b;
      } else if (b == '\\' || b == '"') {
        out[o++] = '\\';
        out[o++] = (char)b;
      } else if (b == '\n') {
        out[o++] = '\\';
        out[o++] = 'n';
      } else if (b == '\r') {
        out[o++] = '\\';
        out[o++] = 'r';
      } else {
        memcpy(out + o, "\\u00", 4);
        out[o + 4] = hex[b >> 4];
        out[o + 5] = hex[b & 0xf];
        o += 6;
      }
      i++;
      continue;
    }
    size_t n = utf8_len(s + i, len - i);
    if (n == 0) {
      memcpy(out + o, "\\ufffd", 6);
      o += 6;
      i++;
    } else if (n == 3 && b == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
      memcpy(out + o, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
      o += 6;
      i += 3;
    } else {
      memcpy(out + o, s + i, n);
      o += n;
      i += n;
    }
  }
  return o;
}

static void report(struct mon_log *log, const char *what) {
  if (log->failed)
    return;
  log->failed = 1; /* once: a full disk must not flood the shim's own stderr */
  fprintf(stderr, "berth-shim: monitor: %s %s: %s (log lines are being lost)\n", what,
          log->path, strerror(errno));
}

static int open_log(struct mon_log *log, int trunc) {
  int fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (trunc ? O_TRUNC : 0), 0640);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close(fd);
    return -1;
  }
  log->fd = fd;
  log->size = st.st_size;
  return 0;
}

int mon_log_open(struct mon_log *log, const struct monitor_config *cfg, struct berr *err) {
  log->fd = -1;
  log->path = cfg->log_path;
  log->max_size = cfg->log_max_size > 0 ? cfg->log_max_size : 0;
  log->max_files = cfg->log_max_files > 1 ? cfg->log_max_files : 1;
  if (!log->path)
    return 0;
  if (strlen(log->path) + 16 > PATH_MAX)
    return berr_msg(err, "log path %s is too long", log->path);
  if (open_log(log, 0) < 0)
    return berr_sys(err, "open log %s", log->path);
  return 0;
}

static void write_out(struct mon_log *log, const char *buf, size_t len) {
  if (log->fd < 0) {
    if (len)
      errno = EBADF, report(log, "write");
    return;
  }
  while (len > 0) {
    ssize_t n = write(log->fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      report(log, "write");
      return;
    }
    log->size += n;
    buf += n;
    len -= (size_t)n;
  }
}

static void rotate(struct mon_log *log) {
  if (log->max_files < 2) {
    if (log->fd >= 0 && ftruncate(log->fd, 0) < 0)
      report(log, "truncate");
    log->size = 0;
    return;
  }
  char from[PATH_MAX], to[PATH_MAX];
  for (int i = log->max_files - 1; i > 1; i--) {
    snprintf(from, sizeof from, "%s.%d", log->path, i - 1);
    snprintf(to, sizeof to, "%s.%d", log->path, i);
    if (rename(from, to) < 0 && errno != ENOENT)
      report(log, "rotate");
  }
  snprintf(to, sizeof to, "%s.1", log->path);
  if (rename(log->path, to) < 0 && errno != ENOENT)
    report(log, "rotate");
  if (log->fd >= 0)
    close(log->fd);
  log->fd = -1;
  log->size = 0;
  if (open_log(log, 1) < 0)
    report(log, "reopen");
}

static int reserve(struct mon_log *log, size_t more) {
  if (log->batch_len + more <= log->batch_cap)
    return 0;
  size_t cap = log->batch_cap ? log->batch_cap : 64 * 1024;
  while (cap < log->batch_len + more)
    cap *= 2;
  char *p = realloc(log->batch, cap);
  if (!p)
    return -1;
  log->batch = p;
  log->batch_cap = cap;
  return 0;
}

/* Escapes one log entry onto the batch, rotating first when it would not fit. */
static void emit(struct mon_log *log, int stream, const char *data, size_t len,
                 const struct timespec *now) {
  static const char head[] = "{\"log\":\"";
  char tail[96];
  char ts[40];
  mon_format_time(ts, now);
  int tail_len = snprintf(tail, sizeof tail, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n",
                          stream == MON_STDERR ? "stderr" : "stdout", ts);
  if (reserve(log, sizeof head - 1 + 6 * len + (size_t)tail_len) < 0) {
    errno = ENOMEM;
    report(log, "buffer for");
    return;
  }
  size_t start = log->batch_len;
  char *p = log->batch + start;
  memcpy(p, head, sizeof head - 1);
  size_t n = sizeof head - 1;
  n += mon_json_escape(p + n, data, len);
  memcpy(p + n, tail, (size_t)tail_len);
  n += (size_t)tail_len;

  long long before = log->size + (long long)start;
  if (log->max_size > 0 && before > 0 && before + (long long)n > log->max_size) {
    write_out(log, log->batch, start);
    rotate(log);
    memmove(log->batch, p, n);
    start = 0;
  }
  log->batch_len = start + n;
}

static void flush_batch(struct mon_log *log) {
  write_out(log, log->batch, log->batch_len);
  log->batch_len = 0;
}

void mon_log_write(struct mon_log *log, int stream, const char *data, size_t len,
                   const struct timespec *now) {
  if (!log->path)
    return;
  while (len > 0) {
    typeof(log->line[0]) *l = &log->line[stream];
    const char *nl = memchr(data, '\n', len);
    size_t take = nl ? (size_t)(nl - data) + 1 : len;
    size_t room = sizeof l->buf - l->len;
    if (take > room)
      take = room;
    memcpy(l->buf + l->len, data, take);
    l->len += take;
    data += take;
    len -= take;
    if (l->buf[l->len - 1] == '\n' || l->len == sizeof l->buf) {
      emit(log, stream, l->buf, l->len, now);
      l->len = 0;
    }
  }
  flush_batch(log);
}

void mon_log_flush(struct mon_log *log, int stream, const struct timespec *now) {
  if (!log->path || log->line[stream].len == 0)
    return;
  emit(log, stream, log->line[stream].buf, log->line[stream].len, now);
  log->line[stream].len = 0;
  flush_batch(log);
}

int mon_log_reopen(struct mon_log *log, struct berr *err) {
  if (!log->path)
    return berr_msg(err, "there is no log file");
  if (log->fd >= 0)
    close(log->fd);
  log->fd = -1;
  if (open_log(log, 0) < 0)
    return berr_sys(err, "reopen log %s", log->path);
  log->failed = 0;
  return 0;
}

void mon_log_close(struct mon_log *log) {
  if (log->fd >= 0)
    close(log->fd);
  log->fd = -1;
  free(log->batch);
  log->batch = NULL;
  log->batch_len = log->batch_cap = 0;
}
