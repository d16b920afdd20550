/**
 * A node's human name: 1 to 64 characters, none of them control characters (names are printed
 * in terminals, so a peer must not be able to send escape sequences).
 */
export const NODE_NAME = /^[^\p{Cc}]{1,64}$/u
