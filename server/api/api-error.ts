/** Errors raised by the API layer itself (bad JSON, failed validation, oversized bodies). */
export type ApiErrorCode =
  | "INVALID_JSON"
  | "VALIDATION_FAILED"
  | "INVALID_REGULAR_EXPRESSION"
  | "REQUEST_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "REQUEST_TIMEOUT"
  | "CROSS_SITE_REQUEST"
  | "HOST_NOT_ALLOWED"
  | "BROKER_NOT_AVAILABLE"
  | "INTERNAL";

export class ApiError extends Error {
  readonly isApiError = true;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}
