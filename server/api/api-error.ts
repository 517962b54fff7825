/** Errors raised by the API layer itself (bad JSON, failed validation, oversized bodies). */
import type { ApiErrorCode } from "../errors/error-codes.ts";
import { TributaryError } from "../errors/tributary-error.ts";

export type { ApiErrorCode };

export class ApiError extends TributaryError<ApiErrorCode> {
  constructor(code: ApiErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "ApiError";
  }
}
