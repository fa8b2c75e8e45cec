#ifndef HERALD_CRABBITMQ_SHIM_H
#define HERALD_CRABBITMQ_SHIM_H

// rabbitmq-c 0.11 (Debian 12) keeps its headers at the top of /usr/include.
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>

// amqp_login_with_properties is variadic (the SASL arguments), which Swift cannot call:
// this fixes it to PLAIN with a user name and password.
static inline amqp_rpc_reply_t CRabbitMQ_loginPlain(amqp_connection_state_t state,
                                                    const char *vhost,
                                                    int channelMax,
                                                    int frameMax,
                                                    int heartbeatSeconds,
                                                    const amqp_table_t *clientProperties,
                                                    const char *user,
                                                    const char *password) {
    return amqp_login_with_properties(state, vhost, channelMax, frameMax, heartbeatSeconds,
                                      clientProperties, AMQP_SASL_METHOD_PLAIN, user, password);
}

#endif
