/*
 * The C baseline for the AMQP client benchmark: a plain loop over rabbitmq-c 0.11, no threads,
 * no allocation per message beyond what the library does itself.
 *
 *   reference HOST PORT QUEUE COUNT WINDOW PREFETCH BODY_BYTES
 *
 * It declares a fresh quorum queue, publishes COUNT persistent messages with publisher confirms
 * (up to WINDOW unconfirmed at once; 0.11 has no amqp_publisher_confirm_wait, so the confirm loop
 * is written out here: publish, then read basic.ack/nack frames and honour `multiple`), then
 * consumes them back with prefetch PREFETCH and one basic.ack per message, and deletes the queue.
 * Each publish carries what the Swift client sends for a mandatory message: content type,
 * delivery mode 2, a message id and one integer header, so both put the same bytes on the wire.
 *
 * Prints one line per phase:  RESULT client=c phase=publish count=N seconds=S rate=R
 * and at the end:             RESULT client=c phase=rss kb=K   (VmHWM of this process)
 */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what, const char *detail) {
    fprintf(stderr, "reference: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static void check_rpc(amqp_connection_state_t c, const char *what) {
    amqp_rpc_reply_t r = amqp_get_rpc_reply(c);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) die(what, amqp_error_string2(r.library_error));
    die(what, "server exception");
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) { kb = strtol(line + 6, NULL, 10); break; }
    fclose(f);
    return kb;
}

/* Confirm bookkeeping: one flag per sequence number (1-based), plus the lowest unconfirmed one. */
static unsigned char *confirmed;
static uint64_t lowest = 1, confirmed_count = 0, failures = 0;

static void mark(uint64_t tag, int multiple, int acked) {
    uint64_t from = multiple ? lowest : tag;
    for (uint64_t s = from; s <= tag; s++) {
        if (confirmed[s]) continue;
        confirmed[s] = 1;
        confirmed_count++;
        if (!acked) failures++;
    }
    while (confirmed[lowest]) lowest++;
}

/* Reads one frame (blocking when `block`, else only if one is ready) and applies confirms.
   Returns 0 when nothing was ready. */
static int read_confirm_frame(amqp_connection_state_t c, int block) {
    amqp_frame_t f;
    struct timeval zero = {0, 0};
    int st = block ? amqp_simple_wait_frame(c, &f) : amqp_simple_wait_frame_noblock(c, &f, &zero);
    if (st == AMQP_STATUS_TIMEOUT) return 0;
    if (st != AMQP_STATUS_OK) die("reading confirms", amqp_error_string2(st));
    if (f.frame_type != AMQP_FRAME_METHOD) return 1;
    switch (f.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
        amqp_basic_ack_t *a = f.payload.method.decoded;
        mark(a->delivery_tag, a->multiple, 1);
        break;
    }
    case AMQP_BASIC_NACK_METHOD: {
        amqp_basic_nack_t *n = f.payload.method.decoded;
        mark(n->delivery_tag, n->multiple, 0);
        break;
    }
    case AMQP_BASIC_RETURN_METHOD: {
        amqp_message_t m;
        if (amqp_read_message(c, f.channel, &m, 0).reply_type == AMQP_RESPONSE_NORMAL) amqp_destroy_message(&m);
        failures++;
        break;
    }
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
        die("publishing", "the broker closed the channel");
    }
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: reference HOST PORT QUEUE COUNT WINDOW PREFETCH BODY_BYTES\n");
        return 2;
    }
    const char *host = argv[1], *queue = argv[3];
    int port = atoi(argv[2]);
    uint64_t count = strtoull(argv[4], NULL, 10), window = strtoull(argv[5], NULL, 10);
    uint16_t prefetch = (uint16_t)atoi(argv[6]);
    size_t body_bytes = (size_t)atol(argv[7]);
    const amqp_channel_t ch = 1;

    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(c);
    if (!sock) die("creating a socket", NULL);
    struct timeval cto = {5, 0};
    if (amqp_socket_open_noblock(sock, host, port, &cto) != AMQP_STATUS_OK) die("connecting", host);
    amqp_rpc_reply_t r = amqp_login(c, "/", 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, "guest", "guest");
    if (r.reply_type != AMQP_RESPONSE_NORMAL) die("logging in", NULL);
    amqp_channel_open(c, ch);
    check_rpc(c, "opening the channel");

    amqp_table_entry_t qargs[1];
    qargs[0].key = amqp_cstring_bytes("x-queue-type");
    qargs[0].value.kind = AMQP_FIELD_KIND_UTF8;
    qargs[0].value.value.bytes = amqp_cstring_bytes("quorum");
    amqp_queue_declare(c, ch, amqp_cstring_bytes(queue), 0, 1, 0, 0, (amqp_table_t){1, qargs});
    check_rpc(c, "declaring the queue");
    amqp_confirm_select(c, ch);
    check_rpc(c, "enabling confirms");

    /* ---- publish with confirms, up to `window` in flight ---- */
    char *body = malloc(body_bytes);
    for (size_t i = 0; i < body_bytes; i++) body[i] = (char)('a' + i % 26);
    amqp_bytes_t body_b = {body_bytes, body};
    confirmed = calloc(count + 2, 1);
    amqp_table_entry_t h[1];
    h[0].key = amqp_cstring_bytes("herald-publish-seq");
    h[0].value.kind = AMQP_FIELD_KIND_I64;
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof p);
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
               AMQP_BASIC_HEADERS_FLAG;
    p.content_type = amqp_cstring_bytes("application/octet-stream");
    p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    p.headers = (amqp_table_t){1, h};
    char message_id[32];
    amqp_bytes_t exchange = amqp_cstring_bytes(""), routing_key = amqp_cstring_bytes(queue);

    double start = now_seconds();
    uint64_t published = 0;
    while (confirmed_count < count) {
        while (published < count && published - confirmed_count < window) {
            published++;
            snprintf(message_id, sizeof message_id, "bench-%llu", (unsigned long long)published);
            p.message_id = amqp_cstring_bytes(message_id);
            h[0].value.value.i64 = (int64_t)published;
            int st = amqp_basic_publish(c, ch, exchange, routing_key, 1, 0, &p, body_b);
            if (st != AMQP_STATUS_OK) die("publishing", amqp_error_string2(st));
        }
        read_confirm_frame(c, 1);
        while (read_confirm_frame(c, 0)) {}
    }
    double publish_seconds = now_seconds() - start;
    if (failures) die("publishing", "some messages were nacked or returned");
    printf("RESULT client=c phase=publish count=%llu seconds=%.4f rate=%.0f\n", (unsigned long long)count,
           publish_seconds, (double)count / publish_seconds);
    fflush(stdout);

    /* ---- consume with one ack per message ---- */
    amqp_basic_qos(c, ch, 0, prefetch, 0);
    check_rpc(c, "setting prefetch");
    start = now_seconds();
    amqp_basic_consume(c, ch, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    check_rpc(c, "consuming");
    uint64_t received = 0, body_total = 0;
    while (received < count) {
        amqp_envelope_t env;
        amqp_maybe_release_buffers(c);
        r = amqp_consume_message(c, &env, NULL, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            body_total += env.message.body.len;
            if (amqp_basic_ack(c, env.channel, env.delivery_tag, 0) != AMQP_STATUS_OK) die("acking", NULL);
            amqp_destroy_envelope(&env);
            received++;
        } else if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
            amqp_frame_t f; /* a stray non-delivery frame (late confirm): read it and go on */
            if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK) die("consuming", "lost the connection");
        } else {
            die("consuming", r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION ? amqp_error_string2(r.library_error) : "server exception");
        }
    }
    double consume_seconds = now_seconds() - start;
    if (body_total != count * body_bytes) die("consuming", "body sizes do not add up");
    printf("RESULT client=c phase=consume count=%llu seconds=%.4f rate=%.0f\n", (unsigned long long)count,
           consume_seconds, (double)count / consume_seconds);

    amqp_queue_delete(c, ch, amqp_cstring_bytes(queue), 0, 0);
    check_rpc(c, "deleting the queue");
    amqp_channel_close(c, ch, AMQP_REPLY_SUCCESS);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
    printf("RESULT client=c phase=rss kb=%ld\n", peak_rss_kb());
    free(body);
    free(confirmed);
    return 0;
}
