/**
 * @module engine/backend/images
 * The image seam's message types: pull progress (moby pkg/jsonmessage) and registry credentials
 * (moby api/types/registry AuthConfig). engine/images implements the ImageBackend that uses them.
 */

/** One line of the pull progress stream (moby pkg/jsonmessage JSONMessage). */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: Record<string, unknown>;
  progress?: string;
}

export interface PullOptions {
  auth?: RegistryAuth;
  platform?: string;
}

/** moby api/types/registry.AuthConfig. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** base64("username:password"), what ~/.docker/config.json stores. */
  auth?: string;
  email?: string;
  serveraddress?: string;
  /** An OAuth2 refresh token (docker login with an identity provider). */
  identitytoken?: string;
  /** A bearer token to present to the registry as is. */
  registrytoken?: string;
}
