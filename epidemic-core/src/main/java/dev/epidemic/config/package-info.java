/**
 * Shared by the daemon and the sink modules for reading their configuration; not part of the API.
 */
package dev.epidemic.config;
