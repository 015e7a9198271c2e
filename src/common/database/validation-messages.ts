/**
 * The API's words for the model's validation failures. The DTOs check the same rules first, so these are the
 * model's last word (a rule the DTO missed, a row of a bulk write); either way a client reads the API's message,
 * never Sequelize's ("Validation isEmail on email failed", "Post.title cannot be null").
 */
import type { ValidationErrorItem } from 'sequelize';

export function validationMessage(item: ValidationErrorItem, prefix = ''): string {
  const field = `${prefix}${item.path ?? 'value'}`;
  const args = (item.validatorArgs ?? []) as unknown[];
  switch (item.validatorKey) {
    case 'is_null':
      return `${field} is required`;
    case 'not_unique':
      return `${field} is already in use`;
    case 'isEmail':
      return `${field} must be an email address`;
    case 'notEmpty':
      return `${field} must not be empty`;
    case 'charLength':
      return `${field} ${item.message}`;
    case 'len':
      return `${field} must be between ${String(args[0])} and ${String(args[1])} characters long`;
    case 'isIn':
      return `${field} must be one of the allowed values`;
    default:
      if (item.type === 'string violation') return `${field} must be a string`;
      return `${field} is invalid`;
  }
}
