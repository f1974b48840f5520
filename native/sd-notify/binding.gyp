{
  "targets": [
    {
      "target_name": "sd_notify",
      "sources": ["src/sd_notify.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra"]
    }
  ]
}
