// Shapes of the API's answers, as far as the page reads them.
export {};
