/* A custom Lambda runtime in plain C (static, no libc beyond the basics), for
 * end-to-end tests and benchmarks: it speaks the Runtime API over one
 * keep-alive connection and does what the event asks:
 *   {"echo": ...}           answers with the whole event
 *   {"fail": "message"}     posts to /error (a function error)
 *   {"crash": N}            exits with status N mid-invocation
 *   {"sleep": SECONDS}      sleeps, then answers (timeouts)
 *   {"alloc": MB}           touches MB of memory, then answers (OOM)
 *   {"print": "text"}       writes text to stdout and stderr, then answers
 *   {"bytes": N}            answers with a JSON string of N bytes (payload benchmarks)
 *   {"spin": N}             burns N million rounds of CPU, then answers (CPU-bound timing)
 * Any other event is echoed. The first line it prints is "test runtime ready". */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int connection = -1;
static char host[64];
static int port;

static void connect_api(void) {
  struct sockaddr_in address = {0};
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)port);
  inet_pton(AF_INET, host, &address.sin_addr);
  connection = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(connection, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(connection, (struct sockaddr*)&address, sizeof address) != 0) {
    perror("connect to the Runtime API");
    exit(70);
  }
}

static void send_all(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(connection, data, size);
    if (n <= 0) {
      perror("write");
      exit(71);
    }
    data += n;
    size -= (size_t)n;
  }
}

static char buffer[7 << 20];
static size_t buffered;

/* Reads one response: returns its body (in buffer) and the request id header. */
static char* read_response(size_t* body_size, char* request_id) {
  for (;;) {
    char* end = buffered ? memmem(buffer, buffered, "\r\n\r\n", 4) : NULL;
    if (end) {
      *end = '\0';
      size_t header_size = (size_t)(end - buffer) + 4;
      size_t length = 0;
      for (char* line = strstr(buffer, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) length = strtoul(line + 17, NULL, 10);
        if (request_id && strncasecmp(line + 2, "Lambda-Runtime-Aws-Request-Id:", 30) == 0)
          sscanf(line + 32, " %127[^\r\n]", request_id);
      }
      while (buffered < header_size + length) {
        ssize_t n = read(connection, buffer + buffered, sizeof buffer - buffered);
        if (n <= 0) exit(72);
        buffered += (size_t)n;
      }
      static char body[7 << 20];
      memcpy(body, buffer + header_size, length);
      body[length] = '\0';
      memmove(buffer, buffer + header_size + length, buffered - header_size - length);
      buffered -= header_size + length;
      *body_size = length;
      return body;
    }
    ssize_t n = read(connection, buffer + buffered, sizeof buffer - buffered);
    if (n <= 0) exit(73);
    buffered += (size_t)n;
  }
}

static void post(const char* path, const char* body, size_t size, const char* extra_header) {
  char head[512];
  int n = snprintf(head, sizeof head,
                   "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%sContent-Length: %zu\r\n\r\n",
                   path, host, extra_header, size);
  send_all(head, (size_t)n);
  send_all(body, size);
  size_t ignored;
  read_response(&ignored, NULL);
}

static long number_after(const char* body, const char* key) {
  const char* at = strstr(body, key);
  return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

int main(void) {
  const char* api = getenv("AWS_LAMBDA_RUNTIME_API");
  if (!api || sscanf(api, "%63[^:]:%d", host, &port) != 2) {
    fprintf(stderr, "AWS_LAMBDA_RUNTIME_API is not set\n");
    return 64;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("test runtime ready\n");
  connect_api();
  static char request[1024];
  for (;;) {
    char request_id[128] = "";
    size_t size = 0;
    snprintf(request, sizeof request, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", host);
    send_all(request, strlen(request));
    char* event = read_response(&size, request_id);
    char path[256];
    snprintf(path, sizeof path, "/2018-06-01/runtime/invocation/%s/response", request_id);
    long value;
    if (strstr(event, "\"fail\"")) {
      snprintf(path, sizeof path, "/2018-06-01/runtime/invocation/%s/error", request_id);
      const char* error = "{\"errorMessage\":\"asked to fail\",\"errorType\":\"TestError\"}";
      post(path, error, strlen(error), "Lambda-Runtime-Function-Error-Type: TestError\r\n");
      continue;
    }
    if ((value = number_after(event, "\"crash\":")) >= 0) {
      printf("crashing with %ld\n", value);
      exit((int)value);
    }
    if ((value = number_after(event, "\"sleep\":")) >= 0) sleep((unsigned)value);
    if ((value = number_after(event, "\"spin\":")) >= 0) {
      volatile unsigned long mix = 1;
      for (long i = 0; i < value * 1000000L; ++i) mix = mix * 6364136223846793005UL + 1442695040888963407UL;
    }
    if ((value = number_after(event, "\"alloc\":")) >= 0) {
      for (long i = 0; i < value; ++i) memset(malloc(1 << 20), 1, 1 << 20);
    }
    if (strstr(event, "\"print\"")) {
      printf("stdout line for %s\n", request_id);
      fprintf(stderr, "stderr line for %s\n", request_id);
    }
    if ((value = number_after(event, "\"bytes\":")) >= 2 && value <= (7 << 20)) {
      static char answer[7 << 20];
      memset(answer, 'x', (size_t)value);
      answer[0] = answer[value - 1] = '"';
      post(path, answer, (size_t)value, "");
      continue;
    }
    post(path, event, size, "");
  }
}
