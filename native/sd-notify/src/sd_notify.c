/*
 * notify(socketPath, message): sends one datagram to an AF_UNIX socket, which is all sd_notify(3) does.
 * Node has no Unix datagram sockets, and the daemons must not depend on libsystemd, so this is the whole
 * addon. Only node_api.h is used: N-API is ABI-stable, so one build keeps loading across Node versions.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <node_api.h>

/* Throws an Error "<call> <path>: <strerror>" carrying the errno number, like Node's own system errors. */
static void throw_errno(napi_env env, const char *call, const char *path, int err) {
  char text[256];
  napi_value message, error, number;
  snprintf(text, sizeof text, "%s %s: %s", call, path, strerror(err));
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message) != napi_ok) return;
  if (napi_create_error(env, NULL, message, &error) != napi_ok) return;
  if (napi_create_int32(env, err, &number) == napi_ok) napi_set_named_property(env, error, "errno", number);
  napi_throw(env, error);
}

/* Copies a JS string into a new NUL-terminated UTF-8 buffer (freed by the caller); NULL with a pending
 * exception when it is not a string. */
static char *get_string(napi_env env, napi_value value, const char *name, size_t *len) {
  napi_valuetype type;
  char *buf;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) {
    char text[64];
    snprintf(text, sizeof text, "%s must be a string", name);
    napi_throw_type_error(env, NULL, text);
    return NULL;
  }
  if (napi_get_value_string_utf8(env, value, NULL, 0, len) != napi_ok) return NULL;
  buf = malloc(*len + 1);
  if (buf == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  if (napi_get_value_string_utf8(env, value, buf, *len + 1, len) != napi_ok) {
    free(buf);
    return NULL;
  }
  return buf;
}

static napi_value notify(napi_env env, napi_callback_info info) {
  size_t argc = 2, path_len = 0, msg_len = 0;
  napi_value argv[2];
  char *path = NULL, *msg = NULL;
  struct sockaddr_un addr;
  socklen_t addr_len;
  int fd, abstract, err;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "notify(socketPath, message) takes two strings");
    return NULL;
  }
  path = get_string(env, argv[0], "socketPath", &path_len);
  if (path == NULL) goto out;
  msg = get_string(env, argv[1], "message", &msg_len);
  if (msg == NULL) goto out;

  /* As sd_notify(3): an absolute path, or a name in the abstract namespace written with a leading '@'. A NUL
   * inside would silently name another socket. */
  if (path_len == 0 || (path[0] != '/' && path[0] != '@') || memchr(path, '\0', path_len) != NULL) {
    napi_throw_range_error(env, NULL, "socketPath must be an absolute path or start with '@'");
    goto out;
  }
  abstract = path[0] == '@';
  /* A filesystem path needs room for its terminating NUL; an abstract name is its bytes exactly ('@' -> NUL). */
  if (abstract ? path_len > sizeof addr.sun_path : path_len >= sizeof addr.sun_path) {
    napi_throw_range_error(env, NULL, "socketPath is too long for sockaddr_un");
    goto out;
  }
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, path_len);
  if (abstract) addr.sun_path[0] = '\0';
  addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len + (abstract ? 0 : 1));

  fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket", path, errno);
    goto out;
  }
  /* MSG_DONTWAIT: a receiver that stops reading gives EAGAIN instead of blocking the event loop.
   * MSG_NOSIGNAL: never SIGPIPE. A datagram is sent whole or not at all. */
  err = sendto(fd, msg, msg_len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)&addr, addr_len) < 0 ? errno : 0;
  close(fd);
  if (err != 0) throw_errno(env, "sendto", path, err);

out:
  free(path);
  free(msg);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "notify", NAPI_AUTO_LENGTH, notify, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "notify", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
